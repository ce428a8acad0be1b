"""Make an fp32 copy of a dynamically quantised (int8) ONNX encoder, e.g. the bundled MiniLM.

    python scripts/dequantize_onnx.py src/paperfeed/data/models/minilm /tmp/minilm-fp32
    PAPERFEED_EMBED_MODEL=onnx:/tmp/minilm-fp32 paperfeed index

onnxruntime's ``quantize_dynamic`` turns each ``MatMul(x, W)`` into
``DynamicQuantizeLinear(x)`` -> ``MatMulInteger(x_q, W_q, x_zp, W_zp)`` -> ``Cast`` ->
``Mul(x_scale * W_scale)``, and a fused ``Attention`` into ``QAttention`` fed the same
way. This puts back ``MatMul(x, (W_q - W_zp) * W_scale)`` and ``Attention`` with those
fp32 weights: the weights keep their int8 rounding, but activations are no longer
quantised with a scale taken from the whole batch, so a text's vector no longer depends on
which other texts share its batch. The Ray tests use it to check the fp32 bound (cosine
>= 0.9999); it needs the ``onnx`` package (``pip install onnx``).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np


def dequantize(source: Path, target: Path) -> int:
    """Write ``target/model.onnx`` (fp32 matmuls) plus the tokenizer; returns how many
    matmuls were restored."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source / "model.onnx"))
    graph = model.graph
    initializers = {item.name: item for item in graph.initializer}
    producers = {output: node for node in graph.node for output in node.output}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    replaced: dict[int, Any] = {}
    dropped: set[int] = set()
    added = []
    for node in graph.node:
        if node.op_type == "QAttention":  # a fused attention layer (see below)
            replaced[id(node)] = _attention_in_fp32(node, producers, initializers, added)
            continue
        if node.op_type != "MatMulInteger":
            continue
        quantize = producers[node.input[0]]
        cast = consumers[node.output[0]][0]
        rescale = consumers[cast.output[0]][0]
        scales = producers[next(name for name in rescale.input if name != cast.output[0])]
        weight_scale = next(name for name in scales.input if name in initializers)
        weights = numpy_helper.to_array(initializers[node.input[1]]).astype(np.float32)
        zero_point = numpy_helper.to_array(initializers[node.input[3]]).astype(np.float32)
        scale = numpy_helper.to_array(initializers[weight_scale]).astype(np.float32)
        name = node.input[1].removesuffix("_quantized") + "_fp32"
        added.append(numpy_helper.from_array((weights - zero_point) * scale, name))
        replaced[id(node)] = helper.make_node(
            "MatMul", [quantize.input[0], name], [rescale.output[0]], name=node.name + "_fp32"
        )
        dropped |= {id(cast), id(rescale)}
    nodes = [replaced.get(id(node), node) for node in graph.node if id(node) not in dropped]
    wanted = {output.name for output in graph.output}
    while True:  # drop what nothing reads any more (the quantisers, the scale products)
        read = wanted | {name for node in nodes for name in node.input}
        kept = [node for node in nodes if any(output in read for output in node.output)]
        if len(kept) == len(nodes):
            break
        nodes = kept
    read = {name for node in nodes for name in node.input}
    keep_initializers = [item for item in list(graph.initializer) + added if item.name in read]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(keep_initializers)
    onnx.checker.check_model(model)
    target.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target / "model.onnx"))
    shutil.copy(source / "tokenizer.json", target / "tokenizer.json")
    metadata_path = source / "model.json"
    metadata = json.loads(metadata_path.read_text()) if metadata_path.exists() else {}
    metadata["precision"] = "fp32 (dequantised from int8 weights)"
    (target / "model.json").write_text(json.dumps(metadata, indent=1))
    return len(replaced)


def _attention_in_fp32(
    node: Any, producers: dict[str, Any], initializers: dict[str, Any], added: list[Any]
) -> Any:
    """``Attention`` in place of ``QAttention`` (the fused graph the export script ships):
    inputs ``x_q, W_q, bias, x_scale, W_scale, mask, x_zp, W_zp``, the activations quantised
    per batch by a ``DynamicQuantizeLinear``; the fp32 node takes ``x, W, bias, mask``."""
    from onnx import helper, numpy_helper

    quantize = producers[node.input[0]]
    weights = numpy_helper.to_array(initializers[node.input[1]]).astype(np.float32)
    scale = numpy_helper.to_array(initializers[node.input[4]]).astype(np.float32)
    zero_point = numpy_helper.to_array(initializers[node.input[7]]).astype(np.float32)
    name = node.input[1].removesuffix("_quantized") + "_fp32"
    added.append(numpy_helper.from_array((weights - zero_point) * scale, name))
    return helper.make_node(
        "Attention",
        [quantize.input[0], name, node.input[2], node.input[5]],
        list(node.output),
        name=node.name + "_fp32",
        domain="com.microsoft",
        **{attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="folder with model.onnx and tokenizer.json")
    parser.add_argument("target", type=Path, help="folder to write the fp32 copy to")
    arguments = parser.parse_args()
    count = dequantize(arguments.source, arguments.target)
    print(f"{count} int8 matmuls restored to fp32 in {arguments.target / 'model.onnx'}")


if __name__ == "__main__":
    main()
