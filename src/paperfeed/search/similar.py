"""Similar papers: a paper's (or a pasted) text as a long query, through the same
candidates and fusion as a search."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.lexical import LexicalIndex
from paperfeed.index.tokenizer import tokenize
from paperfeed.index.vector_search import VectorSearch
from paperfeed.index.vectors import VectorIndex
from paperfeed.models import Hit, StoredPaper
from paperfeed.search.fusion import fuse
from paperfeed.search.ranking import DENSE_DEPTH, gather
from paperfeed.search.snippets import describe_match
from paperfeed.store import Store


def salient_terms(text: str, count: int = 40) -> list[str]:
    """The ``count`` most frequent index terms of ``text``: a long text's lexical query."""
    counts: dict[str, int] = {}
    for term in tokenize(text):
        counts[term] = counts.get(term, 0) + 1
    return sorted(counts, key=lambda term: -counts[term])[:count]


def make_hit(
    paper: StoredPaper,
    score: float,
    stems: set[str] | None,
    found_by: str,
    lexical_rank: int | None,
    semantic_rank: int | None,
    similarity: float | None = None,
) -> Hit:
    """A hit, with its snippet and matched terms when ``stems`` are given."""
    snippet, matched = "", list[str]()
    if stems is not None:
        snippet, matched = describe_match(paper.title, paper.abstract or paper.title, stems)
    return Hit(
        paper=paper,
        score=float(score),
        snippet=snippet,
        matched_terms=tuple(matched),
        found_by=found_by,
        lexical_rank=lexical_rank,
        semantic_rank=semantic_rank,
        similarity=similarity,
    )


def similar_hits(
    store: Store,
    lexical: LexicalIndex | None,
    vectors: VectorSearch | None,
    matrix: VectorIndex | None,
    text: str,
    vector: NDArray[np.float32] | None,
    limit: int,
    exclude: int | None,
    fusion: str,
    dense_weight: float,
) -> list[Hit]:
    """The ``limit`` papers most like ``text`` (embedded as ``vector``, when there is one):
    its 40 most frequent terms on the lexical side, its vector on the dense side, fused
    by ``fusion``; ``exclude`` (the paper itself) is never returned."""
    found = gather(
        store,
        lexical,
        vectors,
        [(term, None) for term in salient_terms(text)],
        (),
        vector,
        lexical_depth=DENSE_DEPTH,
        prose=True,  # an abstract: the dense share of natural-language queries
        matrix=matrix,
    )
    scores = fuse(found, fusion, None, 0.5 if fusion == "rrf" else dense_weight)
    order = [int(index) for index in np.argsort(-scores, kind="stable")]
    ranked = [
        (int(found.keys[index]), float(scores[index]))
        for index in order
        if int(found.keys[index]) != exclude
    ][:limit]
    papers = store.get_papers([key for key, _ in ranked])
    cosine = dict(zip(found.keys.tolist(), found.cosine.tolist(), strict=True))
    lexical_keys = set(found.keys[found.lexical_order].tolist())
    dense_keys = set(found.keys[found.dense_order].tolist())
    hits = []
    for key, score in ranked:
        if key not in papers:
            continue
        by = (
            "both"
            if key in lexical_keys and key in dense_keys
            else ("lexical" if key in lexical_keys else "semantic")
        )
        similarity = cosine.get(key)
        hits.append(
            make_hit(
                papers[key],
                score,
                set(),
                by,
                None,
                None,
                similarity if similarity == similarity else None,
            )
        )
    return hits
