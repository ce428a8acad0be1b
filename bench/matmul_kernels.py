"""How fast can MiniLM be on this CPU? onnxruntime's fp32 and int8 matrix products, one thread.

An embedding is almost all matrix products: per token and layer, the Q, K and V projections
(3 x 384 x 384 multiply-adds), the attention output (384 x 384), the feed-forward up and down
(2 x 384 x 1536), and the attention itself (2 x tokens x 384, in fp32 in both models). This
script times onnxruntime's fp32 ``MatMul`` and its int8 ``DynamicQuantizeMatMul`` (the node
the shipped model's linear layers run) at those shapes, one thread, and turns the rates into
the fastest either model could embed a text of ``--tokens`` tokens, and so the largest speed-up an
int8 model can have over an fp32 one (sentence-transformers) on this CPU: the matrix work
each must do at least, at the kernels' own peak.

    python bench/matmul_kernels.py                          # this CPU's kernels
    python bench/matmul_kernels.py --hide-cpu-features avx2  # an AVX2-only CPU's kernels

Needs the ``onnx`` package (the dev extra) to build the one-node graphs.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import numpy as np

from _cpu_features import PRESETS, hidden_description, hide_cpu_features
from _machine import Machine, add_machine_arguments, cpu_description

HIDDEN, FEED_FORWARD, LAYERS = 384, 1536, 6
# each layer's linear products: (name, inputs, outputs)
LINEAR_LAYERS = (
    ("Q, K, V projections", HIDDEN, 3 * HIDDEN),
    ("attention output", HIDDEN, HIDDEN),
    ("feed-forward up", HIDDEN, FEED_FORWARD),
    ("feed-forward down", FEED_FORWARD, HIDDEN),
)
# SciFact abstracts average 239 tokens with title (the shipped tokenizer, 256-token window)
DEFAULT_TOKENS = 239


def one_node_session(node_type: str, rows: int, inputs: int, outputs: int) -> Callable[[], object]:
    """A one-thread onnxruntime session of one ``MatMul`` or ``DynamicQuantizeMatMul``."""
    import onnxruntime
    from onnx import TensorProto, helper

    generator = np.random.default_rng(0)
    source = helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, inputs])
    result = helper.make_tensor_value_info("y", TensorProto.FLOAT, [rows, outputs])
    if node_type == "MatMul":
        weights = generator.standard_normal((inputs, outputs)).astype(np.float32)
        initializers = [helper.make_tensor("w", TensorProto.FLOAT, weights.shape, weights.ravel())]
        node = helper.make_node("MatMul", ["x", "w"], ["y"])
    else:
        weights = generator.integers(-64, 64, (inputs, outputs), dtype=np.int8)
        scales = np.full(outputs, 0.01, dtype=np.float32)
        initializers = [
            helper.make_tensor("w", TensorProto.INT8, weights.shape, weights.ravel()),
            helper.make_tensor("s", TensorProto.FLOAT, scales.shape, scales),
        ]
        node = helper.make_node(
            "DynamicQuantizeMatMul", ["x", "w", "s"], ["y"], domain="com.microsoft"
        )
    graph = helper.make_graph([node], node_type, [source], [result], initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
    )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    feed = {"x": generator.standard_normal((rows, inputs)).astype(np.float32)}
    return lambda: session.run(None, feed)


def multiply_adds_per_second(
    run: Callable[[], object], multiply_adds: int, seconds: float
) -> float:
    """The best of five timed stretches, in multiply-adds per CPU second."""
    for _ in range(3):
        run()
    best = 0.0
    for _ in range(5):
        calls, started = 0, time.process_time()
        while (elapsed := time.process_time() - started) < seconds / 5:
            run()
            calls += 1
        best = max(best, multiply_adds * calls / elapsed)
    return best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=DEFAULT_TOKENS, help="tokens a text")
    parser.add_argument("--seconds", type=float, default=2.0, help="timing a kernel and shape")
    parser.add_argument("--hide-cpu-features", choices=sorted(PRESETS))
    add_machine_arguments(parser)
    args = parser.parse_args(argv)
    if args.hide_cpu_features:
        hide_cpu_features(args.hide_cpu_features)  # re-executes this script once
    machine = Machine.check(args)
    tokens = args.tokens
    print(f"one thread, {tokens} tokens a text, best of 5 stretches of {args.seconds / 5:.1f} s")
    print("| linear layer | shape | fp32 GMAC/s | int8 GMAC/s | int8 / fp32 |")
    print("|---|---|---:|---:|---:|")
    linear = 0  # multiply-adds a text in the linear layers
    fp32_seconds = int8_seconds = 0.0
    for name, inputs, outputs in LINEAR_LAYERS:
        multiply_adds = tokens * inputs * outputs
        linear += LAYERS * multiply_adds
        rates = {
            node_type: multiply_adds_per_second(
                one_node_session(node_type, tokens, inputs, outputs), multiply_adds, args.seconds
            )
            for node_type in ("MatMul", "DynamicQuantizeMatMul")
        }
        fp32_seconds += LAYERS * multiply_adds / rates["MatMul"]
        int8_seconds += LAYERS * multiply_adds / rates["DynamicQuantizeMatMul"]
        print(
            f"| {name} | {tokens}x{inputs} @ {inputs}x{outputs} | {rates['MatMul'] / 1e9:.1f} | "
            f"{rates['DynamicQuantizeMatMul'] / 1e9:.1f} | "
            f"{rates['DynamicQuantizeMatMul'] / rates['MatMul']:.2f} |"
        )
    # scores Q K^T and the weighted sum of V: 2 x tokens x hidden a token and layer, fp32 in
    # both models (QAttention quantises only its input projection)
    attention = LAYERS * 2 * tokens * tokens * HIDDEN
    attention_rate = multiply_adds_per_second(
        one_node_session("MatMul", tokens, HIDDEN, tokens), tokens * HIDDEN * tokens, args.seconds
    )
    attention_seconds = attention / attention_rate
    fp32_floor = 1000 * (fp32_seconds + attention_seconds)
    int8_floor = 1000 * (int8_seconds + attention_seconds)
    print()
    print(
        f"matrix work a text: {linear / 1e9:.2f} G multiply-adds in linear layers, "
        f"{attention / 1e9:.2f} G in attention"
    )
    print(f"fastest fp32 model (the peer): {fp32_floor:.1f} CPU ms a text")
    print(
        f"fastest int8 model (linear layers int8, attention fp32): {int8_floor:.1f} CPU ms a text"
    )
    print(f"largest possible speed-up of int8 over fp32 here: {fp32_floor / int8_floor:.2f}x")
    print(f"CPU: {cpu_description()}")
    if hidden := hidden_description():
        print(hidden)
    machine.report()


if __name__ == "__main__":
    main()
