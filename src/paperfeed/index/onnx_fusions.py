"""Which of onnxruntime's optional graph fusions to switch off on this runtime and CPU.

When it loads a model onnxruntime fuses ``Add`` (bias), ``Add`` (residual) and
``LayerNormalization`` into one ``SkipLayerNormalization`` node. Whether that is faster
depends on the onnxruntime version: timed here on one thread at 256 tokens x 384, the fused
node took 83-89 us in onnxruntime 1.20-1.29 and 501-540 us in 1.31-1.32, where the three
nodes it replaces took 93-153 us (and 540 us in 1.29, whose ``LayerNormalization`` was the
slow one). On the bundled MiniLM that is about a quarter of all the CPU an embedding takes.

So the bundled model ships unfused, and :func:`disabled_fusions` times two tiny shipped
graphs (``data/models/probes``: the fused node and its three parts) once per process, and
switches the fusion off only where the fused node is clearly slower. A version table would
be wrong for the next release; the probe costs about 20 ms.
"""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path

import numpy as np

LOGGER = logging.getLogger(__name__)

SKIP_LAYER_NORM_FUSION = "SkipLayerNormFusion"  # onnxruntime's name for the graph transformer
PROBE_TOKENS = 256
PROBE_RUNS = 8
PROBE_ROUNDS = 3
# Fused must be this much slower before we turn the fusion off: the gap where it matters is
# 5x, and timing noise on a busy machine must not flip the choice back and forth.
SLOWER_BY = 1.3
# the shipped probe graphs: skip_layer_norm.onnx and add_layer_norm.onnx
PROBE_DIR = Path(__file__).resolve().parent.parent / "data" / "models" / "probes"


def choose_disabled_fusions(fused_seconds: float, unfused_seconds: float) -> tuple[str, ...]:
    """The fusions to turn off, given the fused and unfused probe times (best of rounds)."""
    if fused_seconds > SLOWER_BY * unfused_seconds:
        return (SKIP_LAYER_NORM_FUSION,)
    return ()


def time_probe(model_bytes: bytes, inputs: dict[str, np.ndarray]) -> float:
    """Best-of-rounds seconds for one run of a probe graph on one thread."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(
        model_bytes,
        sess_options=options,
        providers=["CPUExecutionProvider"],
        # the unfused probe must stay unfused, or both probes would time the same node
        disabled_optimizers=[SKIP_LAYER_NORM_FUSION],
    )
    session.run(None, inputs)  # the first run allocates
    best = float("inf")
    for _ in range(PROBE_ROUNDS):
        start = time.perf_counter()
        for _ in range(PROBE_RUNS):
            session.run(None, inputs)
        best = min(best, (time.perf_counter() - start) / PROBE_RUNS)
    return best


def probe_inputs(hidden_size: int = 384) -> dict[str, np.ndarray]:
    """A fixed input for both probes: one text of ``PROBE_TOKENS`` tokens."""
    rng = np.random.default_rng(0)
    shape = (1, PROBE_TOKENS, hidden_size)
    return {
        "x": rng.standard_normal(shape, dtype=np.float32),
        "skip": rng.standard_normal(shape, dtype=np.float32),
    }


@functools.cache
def disabled_fusions() -> tuple[str, ...]:
    """The fusions to switch off for every session this process makes on the CPU.

    Empty (onnxruntime's defaults) where the probes are missing or fail: the choice only
    changes speed, never the vectors beyond float rounding.
    """
    try:
        fused = (PROBE_DIR / "skip_layer_norm.onnx").read_bytes()
        unfused = (PROBE_DIR / "add_layer_norm.onnx").read_bytes()
        inputs = probe_inputs()
        fused_seconds = time_probe(fused, inputs)
        unfused_seconds = time_probe(unfused, inputs)
    except Exception as error:  # onnxruntime raises its own untyped exception classes
        LOGGER.warning("onnxruntime fusion probe failed, keeping its defaults: %s", error)
        return ()
    chosen = choose_disabled_fusions(fused_seconds, unfused_seconds)
    LOGGER.info(
        "SkipLayerNormalization %.0f us, Add+Add+LayerNormalization %.0f us: %s",
        fused_seconds * 1e6,
        unfused_seconds * 1e6,
        "fusion off" if chosen else "fusion on",
    )
    return chosen
