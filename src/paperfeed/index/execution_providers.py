"""Which onnxruntime execution provider embeds: the CPU, or CUDA (``PAPERFEED_EMBED_PROVIDER``).

The GPU build of onnxruntime is the ``gpu`` extra (``onnxruntime-gpu``, which replaces the
CPU package: ``pip uninstall -y onnxruntime && pip install 'paperfeed[gpu]'``). When CUDA
is asked for but this onnxruntime has no CUDA provider, or the provider cannot start (no
GPU, no CUDA/cuDNN libraries), embedding runs on the CPU and a warning says why.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("paperfeed.index")
PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
GPU_HINT = (
    "for the GPU: pip uninstall -y onnxruntime && pip install 'paperfeed[gpu]' "
    "(onnxruntime-gpu, with the CUDA 12 and cuDNN 9 libraries on the machine)"
)


def session_providers(requested: str, available: list[str]) -> list[str]:
    """The providers to open an ONNX session with, best first; warns on a CPU fallback.

    Args:
        requested: ``cpu`` or ``cuda``.
        available: ``onnxruntime.get_available_providers()``.
    """
    if requested not in PROVIDERS:
        raise ValueError(f"embedding provider {requested!r} is not one of {', '.join(PROVIDERS)}")
    if requested == "cpu":
        return ["CPUExecutionProvider"]
    if PROVIDERS[requested] not in available:
        log.warning(
            "PAPERFEED_EMBED_PROVIDER=%s: this onnxruntime has no %s (it offers %s); "
            "embedding on the CPU. %s",
            requested,
            PROVIDERS[requested],
            ", ".join(available) or "nothing",
            GPU_HINT,
        )
        return ["CPUExecutionProvider"]
    return [PROVIDERS[requested], "CPUExecutionProvider"]


def check_session(session: Any, requested: str) -> str:
    """The provider ``session`` really runs on; warns when CUDA was asked for but did not
    start (onnxruntime then falls back to the CPU by itself). Returns ``cpu`` or ``cuda``."""
    running = list(session.get_providers())
    if requested == "cuda" and "CUDAExecutionProvider" not in running:
        log.warning(
            "PAPERFEED_EMBED_PROVIDER=cuda: the CUDA provider did not start (no GPU, or "
            "missing CUDA/cuDNN libraries); embedding on the CPU. %s",
            GPU_HINT,
        )
        return "cpu"
    return "cuda" if "CUDAExecutionProvider" in running else "cpu"
