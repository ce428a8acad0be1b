"""Looking values up in an ascending array (keys, document ids) by binary search."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def find_sorted(
    ordered: NDArray[Any], wanted: NDArray[Any]
) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """For each of ``wanted``, a position in ``ordered`` (ascending, not empty) and whether
    the value there is the one wanted; where it is not, the position is only a valid index
    (the last one for a value past the end), so one gather serves every value."""
    positions = np.minimum(np.searchsorted(ordered, wanted), len(ordered) - 1)
    found: NDArray[np.bool_] = ordered[positions] == wanted
    return positions, found
