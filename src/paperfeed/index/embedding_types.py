"""What every embedder is, whichever backend makes it: the protocol, its error and the
row normalisation. The core (:mod:`paperfeed.index.embedder`) and the optional backends
(:mod:`paperfeed.index.embedder_backends`) both import these names from here, so neither
imports the other at module level."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float32]


class EmbedderError(ValueError):
    """An embedder spec that cannot be loaded: unknown, missing files or a missing extra."""


class Embedder(Protocol):
    """Anything that maps texts to L2-normalised float32 rows of a fixed dimension."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Return a ``(len(texts), dimension)`` float32 array, one L2-normalised row per text."""
        ...


def normalize_rows(matrix: npt.NDArray[Any]) -> FloatMatrix:
    """L2-normalise each row as float32; all-zero rows stay zero instead of becoming NaN."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.ascontiguousarray(matrix / np.maximum(norms, np.float32(1e-12)), dtype=np.float32)
