"""PAPERFEED_EMBED_PROVIDER: CUDA when onnxruntime has it, else the CPU with a clear warning."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import numpy as np
import onnxruntime
import pytest

from paperfeed.config import Settings, SettingsError
from paperfeed.index.embedder import load_embedder
from paperfeed.index.execution_providers import session_providers
from running_site import FIXTURES

NO_CUDA = "CUDAExecutionProvider" not in onnxruntime.get_available_providers()


@pytest.mark.skipif(not NO_CUDA, reason="this onnxruntime has CUDA: no fallback to see")
def test_cuda_without_a_gpu_build_falls_back_to_the_cpu_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="paperfeed.index"):
        embedder = load_embedder("minilm", threads=1, provider="cuda")
    message = caplog.text
    assert "PAPERFEED_EMBED_PROVIDER=cuda" in message
    assert "no CUDAExecutionProvider" in message and "embedding on the CPU" in message
    assert "pip install 'paperfeed[gpu]'" in message
    assert "did not start" not in message  # one warning, the one that says why
    on_cpu = load_embedder("minilm", threads=1, provider="cpu")
    texts = ["KL divergence between posteriors", "graph neural networks"]
    assert np.allclose(embedder.embed(texts), on_cpu.embed(texts), atol=1e-6)
    # the fallback embeds as the CPU path does (one text a call for the int8 model), so an
    # empty text in a batch gets the CPU's vector, not one shaped by its batch's padding
    two = load_embedder("minilm", threads=2, provider="cuda")
    batch = ["", "a", "short", "graph neural networks for molecules " * 8]
    assert np.allclose(two.embed(batch), load_embedder("minilm", threads=2).embed(batch), atol=1e-6)


@pytest.mark.skipif(not NO_CUDA, reason="this onnxruntime has CUDA: no fallback to see")
def test_the_index_command_shows_the_fallback(paperfeed_home: object) -> None:
    environment = os.environ | {
        "PAPERFEED_EMBED_MODEL": "minilm",
        "PAPERFEED_EMBED_PROVIDER": "cuda",
    }
    subprocess.run(
        [sys.executable, "-m", "paperfeed.cli", "ingest", str(FIXTURES / "cli_arxiv_sample.jsonl"),
         "--quiet"],
        env=environment, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "paperfeed.cli", "index", "--quiet", "--embed-limit", "2"],
        env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "embedding on the CPU" in result.stderr and "Traceback" not in result.stderr
    assert "embedded 2;" in result.stdout


def test_provider_lists() -> None:
    assert session_providers("cpu", ["CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        "CPUExecutionProvider"
    ]
    assert session_providers("cuda", ["CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]


def test_an_unknown_provider_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_EMBED_PROVIDER", "tpu")
    with pytest.raises(SettingsError, match="PAPERFEED_EMBED_PROVIDER='tpu' is not one of cpu"):
        Settings.from_environment()
