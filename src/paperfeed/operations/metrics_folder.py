"""Where a multi-process server keeps its metric files (no prometheus_client import here).

``prometheus_client`` picks its storage when it is first imported: values in memory, or,
when ``PROMETHEUS_MULTIPROC_DIR`` names a folder, memory-mapped files one per process
that a scrape sums. ``paperfeed serve`` forks its workers, and a scrape reaches any one
of them, so the server sets the folder before anything imports the library.
"""

from __future__ import annotations

import os
from pathlib import Path

from paperfeed.config import Settings

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_folder(settings: Settings) -> Path:
    """Point ``PROMETHEUS_MULTIPROC_DIR`` at ``home/metrics`` (unless already set), emptied.

    Emptied at each start: counters restart from zero with the server, as Prometheus
    expects of a restarted target (a left-over file would carry old counts over).
    """
    folder = Path(os.environ.get(VARIABLE) or settings.home / "metrics")
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.glob("*.db"):
        path.unlink(missing_ok=True)
    os.environ[VARIABLE] = str(folder)
    return folder


def multiprocess_mode() -> bool:
    return bool(os.environ.get(VARIABLE))
