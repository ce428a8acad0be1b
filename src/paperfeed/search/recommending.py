""" "For you": recent papers ranked for one user from the papers they upvoted or saved.

The idea is arxiv-sanity-lite's: a per-user linear SVM over the paper features, trained
on the user's papers (positives) against every other recent paper (negatives), scores
the recent papers; here the features are the paper embeddings of the vector index
(unit length, so dot products are cosines) and the SVM is ``search.classifier``'s.

- **Window**: the papers dated within ``WINDOW_DAYS`` (30) days up to the newest date in
  the index, inclusive: "recent" relative to the corpus, so an archive that stopped
  updating still recommends its last month. Papers the user upvoted or saved are never
  recommended; positives themselves may be of any date.
- **Model**: with ``MIN_POSITIVES_FOR_SVM`` (2) or more positives that have a vector, the
  SVM; with one, the centroid (Rocchio's relevance feedback with no negatives): each
  recent paper is scored by its cosine to the mean of the positive vectors. Offline
  (``bench/recommend.py``) the SVM beats the centroid from 2 positives on.
- **Explanation**: each recommended paper names the positive nearest to it (highest
  cosine), "because you saved X" / "because you upvoted X".
- **Not for me**: papers the user marked are never recommended, and the SVM trains on
  them as negatives weighted ``NEGATIVE_WEIGHT`` times an unlabelled recent paper (the
  centroid subtracts ``ROCCHIO_NEGATIVE`` times their centroid: Rocchio's gamma).
- **Cold start**: papers the user wrote or picked are positives too (``store.positives``),
  and library entries the corpus lacks count by their stored vectors (``seed_vectors``).

``bench/recommend.py`` compares the SVM, the centroid and the trending list offline.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.vectors import VectorIndex
from paperfeed.models import StoredPaper
from paperfeed.search.classifier import DEFAULT_C, train_linear_svm
from paperfeed.search.engine import SearchEngine
from paperfeed.search.window_vectors import vectors_within
from paperfeed.store.feedback import not_for_me_marks, seed_vectors
from paperfeed.store.positives import Positive, user_positives

WINDOW_DAYS = 30
MIN_POSITIVES_FOR_SVM = 2  # bench/recommend.py: from 2 positives the SVM beats the centroid
METHODS = ("svm", "centroid")
# An explicit "not for me" weighs this many unlabelled recent papers. bench/triage.py (33
# simulated users who mark the off-topic papers of their top 10): precision@10 0.573
# today -> 0.703 with the marks, the same at weights 1 and 5 as hiding them alone; 20
# gives 0.682 and 100 0.612 (the marked papers are near misses, close to the positives).
NEGATIVE_WEIGHT = 5.0
ROCCHIO_NEGATIVE = 0.25
LIBRARY = "imported"  # the reason of a positive that is a library entry's vector


@dataclass(frozen=True)
class Recommendation:
    """A recent paper for the user, its score and the positive it is closest to."""

    paper: StoredPaper
    score: float
    because: StoredPaper | None  # None when the nearest positive is an imported entry
    reason: str  # "upvoted", "saved", "authored", "picked" or "imported"
    similarity: float  # cosine of the paper and ``because``
    because_title: str = ""  # the nearest positive's title (``because``'s, or the entry's)


@dataclass(frozen=True)
class Recommendations:
    """A user's "For you" list and how it was made."""

    items: tuple[Recommendation, ...]
    method: str  # "svm", "centroid", or "none" when there is nothing to learn from
    positives: int  # positives with a vector (the ones the model saw)
    window_first: str | None  # the window's first and last day, ISO dates
    window_last: str | None
    candidates: int  # recent papers with a vector, positives excluded
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ranked:
    """Store keys of the window's papers, best first, with scores and explanations."""

    keys: NDArray[np.int64]
    scores: NDArray[np.float64]
    # the nearest positive's key, per ranked paper; -1 - i for extra positive vector i
    because: NDArray[np.int64]
    similarity: NDArray[np.float64]
    method: str
    candidates: int


def _day(number: int) -> date:
    return date(number // 10000, number // 100 % 100, number % 100)


def _number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def window_of(dates: NDArray[np.int32], days: int = WINDOW_DAYS) -> tuple[int, int] | None:
    """``(first, last)`` as YYYYMMDD numbers: ``days`` days up to the newest known date."""
    if days < 1:
        raise ValueError(f"window of {days} days (expected at least 1)")
    known = dates[dates > 0]
    if len(known) == 0:
        return None
    last = int(known.max())
    return _number(_day(last) - timedelta(days=days - 1)), last


def rank_window(
    vectors: VectorIndex,
    dates: NDArray[np.int32],
    positive_keys: Sequence[int],
    window: tuple[int, int],
    method: str | None = None,
    strength: float = DEFAULT_C,
    limit: int | None = None,
    negative_keys: Sequence[int] = (),
    extra_positives: NDArray[np.floating] | None = None,
    negative_weight: float = NEGATIVE_WEIGHT,
) -> Ranked:
    """Rank the embedded papers dated inside ``window`` for these positives.

    Args:
        vectors: the vector index (unit-length rows addressed by store key).
        dates: YYYYMMDD per store key (the index metadata).
        positive_keys: the user's papers; those without a vector are left out.
        window: ``(first, last)`` YYYYMMDD, inclusive.
        method: ``"svm"`` or ``"centroid"``; default: the SVM from
            ``MIN_POSITIVES_FOR_SVM`` positives on, else the centroid.
        strength: the SVM's C.
        limit: keep only the best ``limit``.
        negative_keys: papers marked "not for me": never ranked, and explicit negatives.
        extra_positives: unit vectors of positives outside the index (library entries).
        negative_weight: an explicit negative's weight relative to an unlabelled paper.

    Raises:
        ValueError: an unknown method, or no positive has a vector.
    """
    if method is not None and method not in METHODS:
        raise ValueError(f"unknown method {method!r} (expected one of {', '.join(METHODS)})")
    keys = vectors.keys
    rows = np.flatnonzero(np.isin(keys, np.asarray(positive_keys, np.int64)))
    extra = (
        np.asarray(extra_positives, np.float64)
        if extra_positives is not None and len(extra_positives)
        else np.empty((0, vectors.vectors.shape[1]), np.float64)
    )
    if len(rows) == 0 and len(extra) == 0:
        raise ValueError("none of the positives has a vector yet")
    positive_vectors = np.vstack([np.asarray(vectors.vectors[rows], np.float64), extra])
    negative_rows = np.flatnonzero(np.isin(keys, np.asarray(negative_keys, np.int64)))
    negative_rows = np.setdiff1d(negative_rows, rows)
    negative_vectors = np.asarray(vectors.vectors[negative_rows], np.float64)
    key_dates = np.zeros(len(keys), np.int64)
    inside = keys < len(dates)
    key_dates[inside] = dates[keys[inside]]
    in_window = (key_dates >= window[0]) & (key_dates <= window[1])
    in_window[rows] = False
    in_window[negative_rows] = False  # "not for me" hides a paper
    candidates = np.flatnonzero(in_window)
    chosen = method or ("svm" if len(positive_vectors) >= MIN_POSITIVES_FOR_SVM else "centroid")
    if len(candidates) == 0:
        empty = np.empty(0, np.int64)
        return Ranked(empty, np.empty(0), empty, np.empty(0), chosen, 0)
    candidate_vectors = np.asarray(vectors.vectors[candidates], np.float64)
    if chosen == "svm":
        features = np.vstack([positive_vectors, negative_vectors, candidate_vectors])
        labels = np.zeros(len(features), np.bool_)
        labels[: len(positive_vectors)] = True
        weights = np.ones(len(features))
        explicit = slice(len(positive_vectors), len(positive_vectors) + len(negative_vectors))
        weights[explicit] = negative_weight
        model = train_linear_svm(features, labels, strength, weights)
        scores = model.decision(candidate_vectors)
    else:
        scores = candidate_vectors @ _unit(positive_vectors.mean(axis=0))
        if len(negative_vectors):
            scores -= ROCCHIO_NEGATIVE * (candidate_vectors @ _unit(negative_vectors.mean(axis=0)))
    order = np.argsort(-scores, kind="stable")
    if limit is not None:
        order = order[:limit]
    similarities = candidate_vectors[order] @ positive_vectors.T
    nearest = similarities.argmax(axis=1)
    positive_ids = np.concatenate([keys[rows], -1 - np.arange(len(extra), dtype=np.int64)])
    return Ranked(
        keys=keys[candidates[order]],
        scores=scores[order],
        because=positive_ids[nearest],
        similarity=similarities[np.arange(len(order)), nearest],
        method=chosen,
        candidates=len(candidates),
    )


def _unit(vector: NDArray[np.float64]) -> NDArray[np.float64]:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def _iso(number: int) -> str:
    return _day(number).isoformat()


def _between(first: str, last: str) -> tuple[int, int]:
    try:
        return _number(date.fromisoformat(first)), _number(date.fromisoformat(last))
    except ValueError:
        raise ValueError(f"window {first!r}..{last!r} is not two YYYY-MM-DD dates") from None


def recommend(
    engine: SearchEngine,
    user_id: int,
    limit: int = 20,
    window_days: int = WINDOW_DAYS,
    between: tuple[str, str] | None = None,
    exclude: Collection[int] = (),
) -> Recommendations:
    """The user's "For you" list: recent papers ranked from their upvotes and saved papers.

    Args:
        engine: the loaded search engine (its vector index and date metadata).
        user_id: whose positives to read.
        limit: how many papers (1..200).
        window_days: how many days, up to the newest, count as recent.
        between: instead, this window, ``(first, last)`` ISO dates (a digest's period).
        exclude: store keys never to recommend (e.g. papers already mailed).

    Raises:
        ValueError: ``limit``, ``window_days`` or ``between`` out of range.
    """
    if not 1 <= limit <= 200:
        raise ValueError(f"limit {limit} is out of range (expected 1..200)")
    exclude = set(exclude) | engine.hidden_keys  # papers hidden by a moderator
    window = _between(*between) if between else window_of(engine.dates, window_days)
    first, last = (_iso(window[0]), _iso(window[1])) if window else (None, None)
    positives = user_positives(engine.store, user_id)
    rejected = [mark.paper_key for mark in not_for_me_marks(engine.store, user_id)]
    also = [positive.paper_key for positive in positives] + rejected
    vectors = vectors_within(engine, window, also)
    library_titles, library = (
        seed_vectors(engine.store, user_id, vectors.model) if vectors is not None else ([], None)
    )

    def nothing(note: str, usable: int = 0) -> Recommendations:
        return Recommendations((), "none", usable, first, last, 0, (note,))

    if not positives and not library_titles:
        return nothing("no upvotes or saved papers yet")
    if vectors is None or len(vectors) == 0 or window is None:
        return nothing("no paper is embedded yet (run paperfeed index)")
    by_key: dict[int, Positive] = {positive.paper_key: positive for positive in positives}
    usable = int(np.isin(vectors.keys, list(by_key)).sum())
    if usable == 0 and not library_titles:
        return nothing(
            f"none of your {len(positives)} papers is embedded yet (run paperfeed index)"
        )
    ranked = rank_window(
        vectors,
        engine.dates,
        list(by_key),
        window,
        limit=limit + len(exclude),
        negative_keys=rejected,
        extra_positives=library,
    )
    if exclude:
        keep = ~np.isin(ranked.keys, np.asarray(list(exclude), np.int64))
        ranked = replace(
            ranked,
            keys=ranked.keys[keep][:limit],
            scores=ranked.scores[keep][:limit],
            because=ranked.because[keep][:limit],
            similarity=ranked.similarity[keep][:limit],
        )
    notes: list[str] = []
    if usable < len(positives):
        notes.append(f"{len(positives) - usable} of your papers are not embedded yet")
    if ranked.candidates == 0:
        notes.append(f"no other embedded paper between {first} and {last}")
    papers = engine.store.get_papers(ranked.keys.tolist() + ranked.because.tolist())
    items = []
    for key, score, because, similarity in zip(
        ranked.keys.tolist(),
        ranked.scores.tolist(),
        ranked.because.tolist(),
        ranked.similarity.tolist(),
        strict=True,
    ):
        if key not in papers or (because >= 0 and because not in papers):
            continue
        nearest = papers[because] if because >= 0 else None
        items.append(
            Recommendation(
                paper=papers[key],
                score=float(score),
                because=nearest,
                reason=by_key[because].reason if nearest else LIBRARY,
                similarity=float(similarity),
                because_title=nearest.title if nearest else library_titles[-1 - because],
            )
        )
    return Recommendations(
        tuple(items),
        ranked.method,
        usable + len(library_titles),
        first,
        last,
        ranked.candidates,
        tuple(notes),
    )
