"""What the lexical index is made of: postings, segments, query terms and documents to
index. Plain data, shared by the scoring (:mod:`paperfeed.index.lexical`) and the file
layout (:mod:`paperfeed.index.lexical_files`), which import it and not each other's
internals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.term_sequences import TermSequences

# "title" holds the title and the paper's keywords (a keyword match scores like a title
# word); "title_only" the title alone, unweighted: what ``ti:`` requires
FIELDS = ("title", "abstract", "authors", "categories", "title_only")
# the field a fielded filter (``ti:``) reads, where it is not the scored field itself
FILTER_FIELDS = {"title": "title_only"}
# 2: segments also hold each paper's title + abstract term sequence (index/term_sequences.py)
# 3: the "title_only" field (a format-2 segment reads its "title" in its place)
FORMAT_VERSION = 3


@dataclass
class Postings:
    """A term-major sparse matrix: docs of term t are ``docs[indptr[t]:indptr[t+1]]``."""

    indptr: NDArray[np.int64]
    docs: NDArray[np.int32]
    values: NDArray[np.float32]

    def slice(self, term: int) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
        if term + 1 >= len(self.indptr):
            return np.empty(0, np.int32), np.empty(0, np.float32)
        start, end = self.indptr[term], self.indptr[term + 1]
        return self.docs[start:end], self.values[start:end]


@dataclass
class Segment:
    """Documents added in one update."""

    name: str
    keys: NDArray[np.int64]
    live: NDArray[np.bool_]
    lengths: dict[str, NDArray[np.int32]]
    fields: dict[str, Postings]
    combined: Postings
    # largest tf~ of each term in ``combined``: MaxScore's bounds (index/lexical_topk.py)
    term_maxima: NDArray[np.float32] | None = None
    # title + abstract term ids per doc, for proximity (None: written by format 1)
    sequences: TermSequences | None = None


@dataclass
class QueryTerm:
    """One query term as the index sees it: postings per segment, live df and idf."""

    term_id: int
    field_name: str | None
    frequency: int
    idf: float
    parts: list[tuple[int, NDArray[np.int32], NDArray[np.float32]]]  # offset, docs, tf~


@dataclass
class Document:
    """Tokens of one paper per field, ready to index."""

    key: int
    tokens: dict[str, list[str]]
