"""The fusion probe: both probe graphs compute the same thing, the choice follows the
timings, and the bundled model gives the same vectors with the fusion on or off."""

from __future__ import annotations

import numpy as np
import onnxruntime

from paperfeed.index.embedder import BUNDLED_MODELS_DIR
from paperfeed.index.onnx_fusions import (
    PROBE_DIR,
    SKIP_LAYER_NORM_FUSION,
    choose_disabled_fusions,
    disabled_fusions,
    probe_inputs,
    time_probe,
)


def _run(model: bytes | str, feeds: dict[str, np.ndarray], disabled: list[str]) -> np.ndarray:
    session = onnxruntime.InferenceSession(
        model, providers=["CPUExecutionProvider"], disabled_optimizers=disabled
    )
    return np.asarray(session.run(None, feeds)[0])


def test_the_two_probes_compute_the_same_layer_norm() -> None:
    inputs = probe_inputs()
    fused = _run((PROBE_DIR / "skip_layer_norm.onnx").read_bytes(), inputs, [])
    unfused = _run(
        (PROBE_DIR / "add_layer_norm.onnx").read_bytes(), inputs, [SKIP_LAYER_NORM_FUSION]
    )
    assert fused.shape == unfused.shape == inputs["x"].shape
    np.testing.assert_allclose(fused, unfused, atol=1e-4)
    # and it is a layer norm: each token's vector has mean ~beta's mean, not the input's
    assert not np.allclose(fused, inputs["x"] + inputs["skip"], atol=1e-2)


def test_the_fusion_goes_off_only_when_clearly_slower() -> None:
    # onnxruntime 1.32 on this machine: fused 537 us, unfused 104 us
    assert choose_disabled_fusions(537e-6, 104e-6) == (SKIP_LAYER_NORM_FUSION,)
    # onnxruntime 1.23: fused 83 us, unfused 119 us
    assert choose_disabled_fusions(83e-6, 119e-6) == ()
    # within timing noise the runtime keeps its default
    assert choose_disabled_fusions(110e-6, 100e-6) == ()


def test_probe_timings_are_real_and_the_choice_is_cached() -> None:
    seconds = time_probe((PROBE_DIR / "add_layer_norm.onnx").read_bytes(), probe_inputs())
    assert 0 < seconds < 1
    assert disabled_fusions() is disabled_fusions()
    assert set(disabled_fusions()) <= {SKIP_LAYER_NORM_FUSION}


def test_the_bundled_model_gives_the_same_vectors_with_the_fusion_on_or_off() -> None:
    from tokenizers import Tokenizer

    folder = BUNDLED_MODELS_DIR / "minilm"
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    ids = np.array(
        [tokenizer.encode("The Kullback-Leibler divergence between two Gaussians.").ids],
        dtype=np.int64,
    )
    feeds = {
        "input_ids": ids,
        "attention_mask": np.ones_like(ids),
        "token_type_ids": np.zeros_like(ids),
    }
    vectors = [
        _run(str(folder / "model.onnx"), feeds, disabled)[0].mean(axis=0)
        for disabled in ([], [SKIP_LAYER_NORM_FUSION])
    ]
    on, off = (vector / np.linalg.norm(vector) for vector in vectors)
    assert float(on @ off) > 0.999
