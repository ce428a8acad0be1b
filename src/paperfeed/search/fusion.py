"""Combining the lexical and the dense ranking into one.

Reciprocal rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009):

    RRF(d) = sum over rankings r of 1 / (k + rank_r(d)),  k = 60

Weighted fusion: each ranking's scores are min-max normalised to [0, 1] over its
candidates, then combined as ``alpha * dense + (1 - alpha) * lexical``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

RRF_K = 60.0
DENSE_WEIGHT = 0.5


def reciprocal_rank_fusion(
    rankings: list[NDArray[np.int64]], k: float = RRF_K, weights: list[float] | None = None
) -> dict[int, float]:
    """RRF scores of every key appearing in any ranking (each ranking best first)."""
    fused: dict[int, float] = {}
    for position, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[position]
        for rank, key in enumerate(ranking.tolist(), start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    return fused


def _normalise(scores: NDArray[np.float32]) -> NDArray[np.float64]:
    if len(scores) == 0:
        return np.empty(0)
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-12:
        return np.ones(len(scores))
    return (scores.astype(np.float64) - low) / (high - low)


def weighted_fusion(
    lexical: tuple[NDArray[np.int64], NDArray[np.float32]],
    dense: tuple[NDArray[np.int64], NDArray[np.float32]],
    alpha: float = DENSE_WEIGHT,
) -> dict[int, float]:
    """Convex combination of min-max normalised scores; missing scores count as 0."""
    fused: dict[int, float] = {}
    for (keys, scores), weight in ((lexical, 1.0 - alpha), (dense, alpha)):
        for key, value in zip(keys.tolist(), _normalise(scores).tolist(), strict=True):
            fused[key] = fused.get(key, 0.0) + weight * value
    return fused
