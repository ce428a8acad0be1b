"""Topic trends: how many papers matching a query appeared each month, over the corpus.

The matching set is the search engine's lexical side: every live paper of the lexical
index that contains each word of the query (any default field: title, abstract,
authors), under the query's filters (categories, dates, ``ti:``/``au:``/``abs:``
fields, quoted phrases word for word, ``-exclusions``), exactly as the search filters
its candidates. Unlike a page of search results it is not cut at the top 1,000 by
score and takes no semantic neighbours: a trend counts papers that say the words, all
of them, so "diffusion transformer" counts papers with both words, not with either.

Months run from the corpus's first dated month to its last, zeros included, and each
carries the corpus's own count, so a chart can tell a topic growing from the corpus
growing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.tokenizer import tokenize, words
from paperfeed.search.engine import SearchEngine, SearchError
from paperfeed.search.query import ParsedQuery, parse_query
from paperfeed.search.results import category_notes

# Above this many candidates the quoted-phrase order check (which reads the texts from
# the store) is skipped and the words alone decide; the note says so.
PHRASE_CHECK_LIMIT = 20_000


@dataclass(frozen=True)
class MonthCount:
    """One month of a trend: papers matching, and papers in the corpus that month."""

    month: str  # YYYY-MM
    count: int
    corpus: int


@dataclass(frozen=True)
class Trend:
    """Papers per month for one query."""

    query: str
    months: tuple[MonthCount, ...]
    total: int  # matching papers with a date
    undated: int  # matching papers without one (not in any month)
    notes: tuple[str, ...] = ()


def month_range(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from ``first`` to ``last`` inclusive."""
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _matching_keys(engine: SearchEngine, query: ParsedQuery) -> NDArray[np.int64]:
    lexical = engine.lexical
    assert lexical is not None
    live = lexical.live_keys()
    allowed = engine.allowed_mask(query)  # the search's own filters, one definition
    selected = np.ones(max(lexical.key_span, 1), np.bool_) if allowed is None else allowed.copy()
    for text in query.words:
        for term in tokenize(text):
            mask = np.zeros(len(selected), np.bool_)
            found = lexical.keys_with(term)
            mask[found[found < len(mask)]] = True
            selected &= mask
    searched = [term for text in query.words + query.phrases for term in tokenize(text)]
    searched += [term for _, value in query.fielded for term in tokenize(value)]
    if query.has_content and not searched:
        return np.empty(0, np.int64)  # only stop words: the search matches nothing either
    inside = live[live < len(selected)]
    return inside[selected[inside]]


def _phrase_filter(engine: SearchEngine, query: ParsedQuery, keys: NDArray[np.int64]) -> list[int]:
    phrases = [" " + " ".join(words(phrase)) + " " for phrase in query.phrases]
    kept: list[int] = []
    for start in range(0, len(keys), 2000):
        papers = engine.store.get_papers(keys[start : start + 2000].tolist())
        for key, paper in papers.items():
            text = " " + " ".join(words(f"{paper.title} . {paper.abstract}")) + " "
            if all(phrase in text for phrase in phrases):
                kept.append(key)
    return kept


def monthly_trend(
    engine: SearchEngine,
    text: str,
    categories: Sequence[str] = (),
    since: str | None = None,
    until: str | None = None,
) -> Trend:
    """Papers per month matching ``text`` (search syntax) and the extra filters.

    Args:
        engine: a loaded search engine (its lexical index and date metadata).
        text: the query, as typed in the search box.
        categories, since, until: the search page's extra filters.

    Raises:
        SearchError: the query has nothing to match on (no words, phrases or filters),
            or the index has not been built.
    """
    # the typed filters checked as the search checks them (one rule: "cs LG" is refused)
    query = parse_query(text).with_filters(categories, since, until)
    notes = list(query.notes)
    if not (query.has_content or query.categories or query.since or query.until):
        raise SearchError(f"nothing to count for {text!r}: give some words or a filter")
    if engine.lexical is None:
        raise SearchError("the search index is not built yet (run paperfeed index)")
    if query.arxiv_ids:
        notes.append("arXiv ids are not counted in a trend")
    keys = _matching_keys(engine, query)
    if query.categories and not len(keys):  # why a category counts nothing, as a search
        notes += category_notes(engine.lexical, query.categories)
    if query.phrases:
        if len(keys) <= PHRASE_CHECK_LIMIT:
            keys = np.array(_phrase_filter(engine, query, keys), np.int64)
        else:
            notes.append(
                f"{len(keys)} candidates: phrase word order not checked, their words all occur"
            )
    dates = engine.dates
    corpus = _corpus_months(dates, engine.lexical.live_keys())
    matched_months = _month_indexes(dates, keys)
    undated = int(len(keys) - len(matched_months))
    if corpus is None:
        return Trend(text, (), 0, undated, tuple(notes))
    first, last, corpus_counts = corpus
    inside = matched_months[(matched_months >= first) & (matched_months <= last)]
    matched_counts = np.bincount(inside - first, minlength=last - first + 1)
    labels = month_range(_label(first), _label(last))
    months = tuple(
        MonthCount(label, int(matched), int(corpus))
        for label, matched, corpus in zip(labels, matched_counts, corpus_counts, strict=True)
    )
    return Trend(text, months, int(matched_counts.sum()), undated, tuple(notes))


# Months are counted in an array indexed by year * 12 + month - 1.
_CorpusMonths = tuple[int, int, NDArray[np.int64]]


def _label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# The corpus's months for the last index seen: the arrays change only when the engine
# reloads, and counting them was a quarter of a trend (~0.1 ms a search page).
_corpus_months_seen: tuple[NDArray[np.int32], NDArray[np.int64], _CorpusMonths | None] | None = None


def _corpus_months(dates: NDArray[np.int32], live_keys: NDArray[np.int64]) -> _CorpusMonths | None:
    """The corpus's first and last months and its papers per month in between (None for
    a corpus with no dated paper)."""
    global _corpus_months_seen
    seen = _corpus_months_seen
    if seen is not None and seen[0] is dates and seen[1] is live_keys:
        return seen[2]
    months = _month_indexes(dates, live_keys)
    counted: _CorpusMonths | None = None
    if len(months):
        # counted from the corpus's first month to its last (not over all 120,000
        # possible months: allocating and scanning those took half a search page's
        # trend); a matched paper is a live paper, so its month lies inside
        first, last = int(months.min()), int(months.max())
        counted = (first, last, np.bincount(months - first, minlength=last - first + 1))
    _corpus_months_seen = (dates, live_keys, counted)
    return counted


def _month_indexes(dates: NDArray[np.int32], keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """The month (``year * 12 + month - 1``) of each key's date, undated keys left out."""
    inside = keys[keys < len(dates)]
    numbers = dates[inside].astype(np.int64)
    numbers = numbers[numbers > 0]
    return (numbers // 10000) * 12 + (numbers // 100 % 100) - 1
