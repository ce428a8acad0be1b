"""Progress bars on stderr that stay readable when stderr is a log file, not a terminal."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


def progress_bar(
    description: str, total: int | None = None, unit: str = " papers", enabled: bool = True
) -> tqdm[Any]:
    """A tqdm bar with count, rate and ETA; redrawn at most every 30 s when not a terminal."""
    interactive = sys.stderr.isatty()
    bar: tqdm[Any] = tqdm(
        total=total,
        desc=description,
        unit=unit,
        disable=not enabled,
        mininterval=0.2 if interactive else 30.0,
        dynamic_ncols=interactive,
        smoothing=0.1,
    )
    return bar
