"""The query's filters as a mask over paper keys, and exact phrase matching."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.lexical import LexicalIndex
from paperfeed.index.lexical_types import FILTER_FIELDS
from paperfeed.index.tokenizer import words
from paperfeed.index.vector_search import DenseFilter
from paperfeed.search.query import ParsedQuery
from paperfeed.store import Store


def query_filter(
    lexical: LexicalIndex | None, dates: NDArray[np.int32], query: ParsedQuery
) -> DenseFilter:
    """The query's restrictions: as one mask over paper keys (categories, dates,
    exclusions, required fields), and split for a database that filters by category
    and date itself but cannot see the word-based ones.

    Args:
        lexical: the lexical index (None: nothing indexed, so no filter).
        dates: each paper key's date as ``YYYYMMDD`` (0: undated).
        query: the parsed query.
    """
    if lexical is None:
        return DenseFilter()
    size = max(len(dates), lexical.key_span, 1)
    allowed: NDArray[np.bool_] | None = None
    by_terms: NDArray[np.bool_] | None = None

    def restrict(mask: NDArray[np.bool_], term: bool = False) -> None:
        nonlocal allowed, by_terms
        allowed = mask if allowed is None else allowed & mask
        if term:
            by_terms = mask if by_terms is None else by_terms & mask

    def mask_of(keys: NDArray[np.int64]) -> NDArray[np.bool_]:
        mask = np.zeros(size, np.bool_)
        mask[keys[keys < size]] = True
        return mask

    if query.categories:
        # duplicates across categories are harmless in a mask: no np.unique needed
        restrict(
            mask_of(
                np.concatenate(
                    [
                        lexical.keys_with(category.lower(), "categories")
                        for category in query.categories
                    ]
                )
            )
        )
    if query.since or query.until:
        padded = np.zeros(size, np.int32)
        padded[: len(dates)] = dates[:size]
        low = int(query.since.replace("-", "")) if query.since else 0
        high = int(query.until.replace("-", "")) if query.until else 99_999_999
        restrict((padded >= low) & (padded <= high))
    for field_name, terms in query.fielded_terms:
        # ti: requires the word in the title itself, not in a keyword scored with it
        required_in = FILTER_FIELDS.get(field_name, field_name)
        for term in terms:
            restrict(mask_of(lexical.keys_with(term, required_in)), term=True)
    for terms in query.phrase_terms:
        for term in terms:
            restrict(mask_of(lexical.keys_with(term)), term=True)
    for terms in query.excluded_terms:
        for term in terms:
            restrict(~mask_of(lexical.keys_with(term)), term=True)
    return DenseFilter(
        mask=allowed,
        categories=tuple(category.lower() for category in query.categories),
        since=query.since,
        until=query.until,
        term_mask=by_terms,
    )


def phrase_matches(store: Store, query: ParsedQuery, candidates: NDArray[np.int64]) -> list[int]:
    """The candidates whose text (title, abstract or a keyword) contains every quoted
    phrase, word for word."""
    papers = store.get_papers(sorted(set(candidates.tolist())))
    phrases = [" " + " ".join(words(phrase)) + " " for phrase in query.phrases]
    keep = []
    for key, paper in papers.items():
        fields = [paper.title, paper.abstract, *paper.shown_keywords]
        text = " " + " | ".join(" ".join(words(field)) for field in fields) + " "
        if all(phrase in text for phrase in phrases):
            keep.append(key)
    return keep
