"""The day's topics: a feed's papers clustered by meaning and labelled by keywords.

Spherical k-means (I. Dhillon and D. Modha, "Concept decompositions for large sparse
text data using clustering", Machine Learning 42, 2001) over the papers' unit vectors,
seeded by k-means++ from a fixed random state so the same day always gives the same
topics, with ``k = clamp(round(sqrt(n / 2)), 2, MAX_TOPICS)`` (the rule of thumb of
K. Mardia et al., *Multivariate Analysis*, 1979). A topic is labelled by its most
distinctive words of titles and keywords: how many of its papers use a word times ``log(1 + n_day /
count_day)`` (TF-IDF with the day as the corpus), so "language" labels a topic only where
it stands out; its link searches for the two best. Papers without a vector form a last
"Other papers" group.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.annotations import BOUNDARY_WORDS, folded_words
from paperfeed.index.tokenizer import stem
from paperfeed.index.vector_search import VectorSearch
from paperfeed.models import StoredPaper

MAX_TOPICS = 8
MIN_PAPERS = 4  # fewer papers than this are not grouped
LABEL_KEYWORDS = 3
ITERATIONS = 30
RESTARTS = 5
OTHER = "Other papers"


@dataclass(frozen=True)
class Topic:
    """A group of the day's papers; ``query`` searches for it (its two best words)."""

    label: str
    query: str
    keys: tuple[int, ...]


def topic_count(papers: int) -> int:
    return max(2, min(MAX_TOPICS, round(math.sqrt(papers / 2))))


def cluster(matrix: NDArray[np.float64], count: int) -> NDArray[np.int64]:
    """Spherical k-means of unit rows into ``count`` clusters; a label per row. Seeded by
    k-means++ (D. Arthur and S. Vassilvitskii, SODA 2007) from a fixed random state, best
    of ``RESTARTS`` by total cosine to the centres: the same papers give the same topics,
    and one odd paper does not take a seed of its own as farthest-point seeding lets it."""
    generator = np.random.default_rng(0)
    best_labels, best_value = np.zeros(len(matrix), np.int64), -np.inf
    for _ in range(RESTARTS):
        labels, value = _kmeans(matrix, count, generator)
        if value > best_value:
            best_labels, best_value = labels, value
    return best_labels


def _kmeans(
    matrix: NDArray[np.float64], count: int, generator: np.random.Generator
) -> tuple[NDArray[np.int64], float]:
    seeds = [int(generator.integers(len(matrix)))]
    distance = 1.0 - matrix @ matrix[seeds[0]]
    while len(seeds) < count:
        weights = np.maximum(distance, 0.0) ** 2
        total = float(weights.sum())
        pick = int(generator.choice(len(matrix), p=weights / total)) if total > 0 else len(seeds)
        seeds.append(pick)
        distance = np.minimum(distance, 1.0 - matrix @ matrix[pick])
    centres = matrix[seeds].copy()
    labels = np.full(len(matrix), -1, np.int64)
    for _ in range(ITERATIONS):
        new = np.argmax(matrix @ centres.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for index in range(count):
            members = matrix[labels == index]
            if len(members):
                mean = members.mean(axis=0)
                centres[index] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    value = float(np.sum(np.max(matrix @ centres.T, axis=1)))
    return labels, value


def _terms(paper: StoredPaper) -> dict[str, str]:
    """The paper's title and keyword words by stem (boundary words and numbers left out),
    each with the surface form it was written in."""
    found: dict[str, str] = {}
    for text in (paper.title, *paper.shown_keywords):
        for word in folded_words(text):
            if word in BOUNDARY_WORDS or len(word) < 3 or word.isdigit():
                continue
            found.setdefault(stem(word), word)
    return found


def _label(members: Sequence[StoredPaper], day_counts: Counter[str], day_size: int) -> list[str]:
    """The cluster's most distinctive title and keyword words: how many of its papers use
    each, times its idf over the day; a word has to be shared where the cluster can."""
    counts: Counter[str] = Counter()
    shown: dict[str, Counter[str]] = {}
    for paper in members:
        for term, word in _terms(paper).items():
            counts[term] += 1
            shown.setdefault(term, Counter())[word] += 1
    least = 2 if len(members) >= 3 else 1
    shared = [term for term in counts if counts[term] >= least]
    # no word shared: the cluster's own most distinctive words still label it, where its
    # first paper's whole title did (and linked to a search for that one paper)
    scored = sorted(
        shared or list(counts),
        key=lambda term: (-counts[term] * math.log(1 + day_size / day_counts[term]), term),
    )
    return [shown[term].most_common(1)[0][0] for term in scored[:LABEL_KEYWORDS]]


def day_topics(vectors: VectorSearch | None, papers: Sequence[StoredPaper]) -> list[Topic]:
    """The papers grouped into labelled topics, largest first; [] when too few to group.

    Args:
        vectors: the engine's dense search, in-process or pgvector (None: nothing to
            cluster by); only the feed's papers' vectors are read.
        papers: the feed's papers, in the feed's order (kept inside each topic).
    """
    if vectors is None or len(vectors) == 0 or len(papers) < MIN_PAPERS:
        return []
    keys = np.asarray([paper.key for paper in papers], np.int64)
    rows = vectors.vectors_of(keys)
    present = np.asarray(~np.isnan(rows).any(axis=1), np.bool_)
    if int(present.sum()) < MIN_PAPERS:
        return []
    matrix = np.asarray(rows[present], np.float64)
    labels = cluster(matrix, topic_count(len(matrix)))
    with_vectors = [paper for paper, has in zip(papers, present.tolist(), strict=True) if has]
    day_counts: Counter[str] = Counter(term for paper in papers for term in _terms(paper))
    topics = []
    for index in range(int(labels.max()) + 1):
        members = [
            paper
            for paper, label in zip(with_vectors, labels.tolist(), strict=True)
            if label == index
        ]
        if not members:
            continue
        words = _label(members, day_counts, len(papers))
        label = " · ".join(words) if words else members[0].title
        query = " ".join(words[:2]) if words else members[0].title  # its two best words
        topics.append(Topic(label, query, tuple(p.key for p in members)))
    topics.sort(key=lambda topic: (-len(topic.keys), topic.label))
    rest = tuple(paper.key for paper, has in zip(papers, present.tolist(), strict=True) if not has)
    if rest:
        topics.append(Topic(OTHER, "", rest))
    return topics
