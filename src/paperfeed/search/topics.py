"""The day's topics: a feed's papers clustered by meaning and labelled by keywords.

Spherical k-means (I. Dhillon and D. Modha, "Concept decompositions for large sparse
text data using clustering", Machine Learning 42, 2001) over the papers' unit vectors,
seeded by farthest-point picks so the same day always gives the same topics, with
``k = clamp(round(sqrt(n / 2)), 2, MAX_TOPICS)`` (the rule of thumb of K. Mardia et al.,
*Multivariate Analysis*, 1979). A topic is labelled by its most distinctive keywords:
each keyword's count in the cluster times ``log(n_day / count_day)`` (TF-IDF with the
day as the corpus), so "language model" labels a topic only where it stands out. Papers
without a vector form a last "Other papers" group.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.vectors import VectorIndex
from paperfeed.models import StoredPaper

MAX_TOPICS = 8
MIN_PAPERS = 4  # fewer papers than this are not grouped
LABEL_KEYWORDS = 3
ITERATIONS = 20
OTHER = "Other papers"


@dataclass(frozen=True)
class Topic:
    """A group of the day's papers; ``query`` searches for it (its best keyword)."""

    label: str
    query: str
    keys: tuple[int, ...]


def topic_count(papers: int) -> int:
    return max(2, min(MAX_TOPICS, round(math.sqrt(papers / 2))))


def cluster(matrix: NDArray[np.float64], count: int) -> NDArray[np.int64]:
    """Spherical k-means of unit rows into ``count`` clusters; a label per row."""
    centroid = matrix.mean(axis=0)
    seeds = [int(np.argmax(matrix @ centroid))]
    nearest = matrix @ matrix[seeds[0]]
    while len(seeds) < count:
        nearest[seeds] = np.inf
        pick = int(np.argmin(nearest))
        seeds.append(pick)
        nearest = np.maximum(nearest, matrix @ matrix[pick])
    centres = matrix[seeds].copy()
    labels = np.zeros(len(matrix), np.int64)
    for _ in range(ITERATIONS):
        new = np.argmax(matrix @ centres.T, axis=1)
        if _ and np.array_equal(new, labels):
            break
        labels = new
        for index in range(count):
            members = matrix[labels == index]
            if len(members):
                mean = members.mean(axis=0)
                centres[index] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return labels


def _label(members: Sequence[StoredPaper], day_counts: Counter[str], day_size: int) -> list[str]:
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for paper in members:
        for keyword in {k.lower(): k for k in paper.shown_keywords}.items():
            counts[keyword[0]] += 1
            shown.setdefault(keyword[0], keyword[1])
    scored = sorted(
        counts,
        key=lambda word: (-counts[word] * math.log(1 + day_size / day_counts[word]), word),
    )
    chosen: list[str] = []
    for word in scored:
        if any(word in other or other in word for other in chosen):
            continue  # "language model" after "large language model" says nothing new
        chosen.append(word)
        if len(chosen) == LABEL_KEYWORDS:
            break
    return [shown[word] for word in chosen]


def day_topics(vectors: VectorIndex | None, papers: Sequence[StoredPaper]) -> list[Topic]:
    """The papers grouped into labelled topics, largest first; [] when too few to group.

    Args:
        vectors: the vector index (None: nothing to cluster by).
        papers: the feed's papers, in the feed's order (kept inside each topic).
    """
    if vectors is None or len(vectors) == 0 or len(papers) < MIN_PAPERS:
        return []
    keys = np.asarray([paper.key for paper in papers], np.int64)
    sorter = np.argsort(vectors.keys)
    places = np.searchsorted(vectors.keys, keys, sorter=sorter)
    places = np.minimum(places, len(vectors.keys) - 1)
    rows = sorter[places]
    present = vectors.keys[rows] == keys
    if int(present.sum()) < MIN_PAPERS:
        return []
    matrix = np.asarray(vectors.vectors[rows[present]], np.float64)
    labels = cluster(matrix, topic_count(len(matrix)))
    with_vectors = [paper for paper, has in zip(papers, present.tolist(), strict=True) if has]
    day_counts: Counter[str] = Counter(
        keyword for paper in papers for keyword in {k.lower() for k in paper.shown_keywords}
    )
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
        topics.append(
            Topic(label, words[0] if words else members[0].title, tuple(p.key for p in members))
        )
    topics.sort(key=lambda topic: (-len(topic.keys), topic.label))
    rest = tuple(paper.key for paper, has in zip(papers, present.tolist(), strict=True) if not has)
    if rest:
        topics.append(Topic(OTHER, "", rest))
    return topics
