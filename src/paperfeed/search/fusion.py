"""Combining the lexical and the dense evidence about each candidate into one score.

The default, ``calibrated`` fusion, scores every candidate (the lexical top 1,000 and the
dense top 100 of a query) on four features, each comparable across queries:

- ``lexical``: BM25F over the best BM25F of the query's candidates (1 for the best);
- ``dense``: the cosine of query and paper, relative to the gap between the best
  cosine and a fixed floor: ``(cos - DENSE_FLOOR) / (best - DENSE_FLOOR)``, clipped at 0.
  Min-max over the dense top 100 stretches a 0.05 spread of cosines to the full [0, 1],
  so on keyword queries the dense side outvoted BM25 on near-ties; a fixed floor keeps a
  small cosine gap small;
- ``coverage``: the idf-weighted share of the query's distinct terms the paper has;
- ``proximity``: the share of the query's adjacent term pairs (inside one phrase, one
  comma-separated keyword, or the whole free text) that are adjacent in the paper's
  title or abstract.

Every candidate has both a BM25F score and a cosine (the missing one is looked up, not
taken as 0), so a paper just outside one side's list is not punished for it.

    score = (1 - w) * lexical + w * dense + COVERAGE * coverage + PROXIMITY * proximity

with the dense share ``w`` adapted to the query: ``dense_short`` for keyword-like
queries (up to ``short_terms`` terms), ``dense_long`` for natural-language ones (from
``long_terms`` terms, or any query with a stop word: a sentence), linear in between.
Constants were fitted on training splits only (``bench/quality.py --sweep``;
docs/benchmarks.md).

The older methods remain for comparison: ``weighted`` (min-max normalised scores, missing
as 0) and ``rrf``, reciprocal rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009):
``RRF(d) = sum over rankings r of 1 / (k + rank_r(d))``, k = 60.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

RRF_K = 60.0
DENSE_WEIGHT = 0.5
# Below this cosine a paper is no closer to a query than unrelated text is (the
# all-MiniLM-L6-v2 cosine of random letter strings to papers peaks near 0.25-0.3):
# the zero of the calibrated dense feature.
DENSE_FLOOR = 0.2
FUSIONS = ("calibrated", "weighted", "rrf")


@dataclass(frozen=True)
class FusionWeights:
    """The constants of calibrated fusion (see the module docstring)."""

    # the best mean of keyword-list MRR@10 and SciFact nDCG@10 on their train splits over
    # 1,080 settings (bench/quality.py --sweep; docs/benchmarks.md)
    dense_short: float = 0.0
    dense_long: float = 0.7
    short_terms: int = 4
    long_terms: int = 10
    coverage: float = 0.3
    proximity: float = 0.3
    feedback_depth: int = 3  # dense pseudo-relevance feedback: first-pass papers used
    feedback_weight: float = 0.5  # ... and how far the query vector moves towards them

    def dense_share(self, terms: int, prose: bool = False) -> float:
        """The dense weight for a query of ``terms`` distinct index terms (a sentence,
        ``prose``, counts as long whatever its length)."""
        if prose or terms >= self.long_terms:
            return self.dense_long
        if terms <= self.short_terms:
            return self.dense_short
        if terms >= self.long_terms:
            return self.dense_long
        along = (terms - self.short_terms) / max(1, self.long_terms - self.short_terms)
        return self.dense_short + along * (self.dense_long - self.dense_short)


@dataclass(frozen=True)
class Candidates:
    """What is known about each candidate of one query, aligned on ``keys``."""

    keys: NDArray[np.int64]
    lexical: NDArray[np.float32]  # BM25F, 0 without any query term
    cosine: NDArray[np.float32]  # query-paper cosine; nan without a vector
    coverage: NDArray[np.float32]  # idf-weighted share of query terms present
    proximity: NDArray[np.float32]  # share of query term pairs adjacent in the text
    lexical_order: NDArray[np.int64]  # positions of the lexical list, best first
    dense_order: NDArray[np.int64]  # positions of the dense list, best first
    terms: int  # distinct index terms of the query
    prose: bool = False  # the query reads as a sentence (has stop words)
    query_vector: NDArray[np.float32] | None = None
    # the candidates' in-process vectors, NaN rows where missing (None: not read)
    vectors: NDArray[np.float32] | None = None
    # papers with a query term, under the filters, that the lexical depth left out
    lexical_beyond: int = 0
    # the keys of every paper with a query term, under the filters, these candidates
    # included (None: not gathered), for the orders that are not relevance
    lexical_rest: NDArray[np.int64] | None = None


def calibrated_fusion(candidates: Candidates, weights: FusionWeights) -> NDArray[np.float64]:
    """Scores of ``candidates`` (higher is better) by calibrated fusion."""
    lexical = candidates.lexical.astype(np.float64)
    best_lexical = float(lexical.max(initial=0.0))
    lexical = lexical / best_lexical if best_lexical > 0 else np.zeros_like(lexical)
    dense_share = (
        weights.dense_share(candidates.terms, candidates.prose) if candidates.terms else 1.0
    )
    cosine = np.nan_to_num(candidates.cosine.astype(np.float64), nan=DENSE_FLOOR)
    if best_lexical <= 0:
        # no lexical evidence at all: the dense order decides
        dense_share = 1.0
    dense = np.zeros_like(cosine)
    if len(cosine):
        top = float(cosine.max())
        if top > DENSE_FLOOR:
            dense = np.clip((cosine - DENSE_FLOOR) / (top - DENSE_FLOOR), 0.0, None)
    if np.isnan(candidates.cosine).all():
        dense_share = 0.0
    combined: NDArray[np.float64] = (
        (1.0 - dense_share) * lexical
        + dense_share * dense
        + weights.coverage * candidates.coverage
        + weights.proximity * candidates.proximity
    )
    return combined


def reciprocal_rank_fusion(
    rankings: Sequence[NDArray[np.int64]], k: float = RRF_K, weights: Sequence[float] | None = None
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


def fuse(
    candidates: Candidates,
    method: str = "calibrated",
    weights: FusionWeights | None = None,
    dense_weight: float = 0.3,
) -> NDArray[np.float64]:
    """Scores aligned on ``candidates.keys`` by ``method`` (one of ``FUSIONS``).

    ``dense_weight`` is the dense share of ``weighted`` and ``rrf`` (2(1-w) and 2w as
    RRF weights: 0.5 is plain RRF); ``calibrated`` takes ``weights``.
    """
    if method == "calibrated":
        return calibrated_fusion(candidates, weights or FusionWeights())
    keys = candidates.keys
    lexical_keys = keys[candidates.lexical_order]
    dense_keys = keys[candidates.dense_order]
    if method == "weighted":
        fused = weighted_fusion(
            (lexical_keys, candidates.lexical[candidates.lexical_order]),
            (dense_keys, candidates.cosine[candidates.dense_order]),
            alpha=dense_weight,
        )
    elif method == "rrf":
        fused = reciprocal_rank_fusion(
            [lexical_keys, dense_keys], weights=[2 * (1 - dense_weight), 2 * dense_weight]
        )
    else:
        raise ValueError(f"unknown fusion {method!r} (expected one of {', '.join(FUSIONS)})")
    return np.array([fused.get(int(key), 0.0) for key in keys], np.float64)


def proximity_share(segments: Sequence[Sequence[str]], text_terms: Sequence[str]) -> float:
    """Share of the adjacent term pairs of ``segments`` that are adjacent in ``text_terms``
    (both stop-word free index terms); 0 when the query has no pair."""
    pairs = {(run[i], run[i + 1]) for run in segments for i in range(len(run) - 1)}
    if not pairs:
        return 0.0
    present = set(zip(text_terms, text_terms[1:], strict=False))
    return sum(1 for pair in pairs if pair in present) / len(pairs)
