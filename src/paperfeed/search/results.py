"""Turning a ranking into what a caller sees: a page of hits in the order asked for, with
their papers, snippets, why each was found and the true count of matches; and the notes
that explain an empty answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.lexical import LexicalIndex
from paperfeed.models import Hit, SearchResults, StoredPaper
from paperfeed.search.query import ParsedQuery
from paperfeed.search.ranking import Ranking, numbers_for
from paperfeed.search.similar import make_hit
from paperfeed.search.snippets import query_stems
from paperfeed.store import Store
from paperfeed.store.accounts import count_votes, vote_counts_since


@dataclass(frozen=True)
class PageRequest:
    """Which page of a ranking, in which order, and whether hits get snippets."""

    offset: int
    limit: int
    sort: str
    snippets: bool


def page_of_results(
    store: Store,
    query: ParsedQuery,
    ranking: Ranking,
    pinned: list[int],
    page: PageRequest,
    notes: list[str],
    dates: NDArray[np.int32],
    upvotes: NDArray[np.int32],
    read_papers: Callable[[Sequence[int]], dict[int, StoredPaper]],
) -> SearchResults:
    """The page ``page`` asks for of ``pinned`` (papers named by id, first) and
    ``ranking``, sorted by relevance, date (newest first) or upvotes (the source's plus
    this site's). The papers the ranking did not read come from ``read_papers`` (the
    engine's recent papers); ``store`` counts this site's votes."""
    pinned_keys = set(pinned)
    keys = pinned + [key for key in ranking.keys if key not in pinned_keys]
    matches = len(ranking.keys) if ranking.matches is None else ranking.matches
    total = len(keys) - len(ranking.keys) + matches if ranking.close_match else len(pinned)
    if page.sort != "relevance":
        # every match, not only the ranked candidates: the newest (or most upvoted) first,
        # whatever its relevance (a saved search's feed must not miss the paper ranked
        # 1,200th for relevance that came out today)
        ranked = set(keys)
        keys += [key for key in ranking.beyond.tolist() if key not in ranked]
    if page.sort == "date":
        keys = _in_order(keys, dates, {})
    elif page.sort == "upvotes":
        # source upvotes from the index plus the votes cast here since, on these papers
        # only (counting every paper's votes grew with the site: 15.5 ms at 200,000 votes)
        # unless they are most of the papers anyway
        many = len(keys) > _VOTES_COUNTED_BY_PAPER
        keys = _in_order(
            keys, upvotes, vote_counts_since(store, 0.0) if many else count_votes(store, keys)
        )
    shown = keys[page.offset : page.offset + page.limit]
    papers = {key: ranking.papers[key] for key in shown if key in ranking.papers}
    missing = [key for key in shown if key not in papers]
    if missing:
        papers.update(read_papers(missing))
    stems = query_stems_of(query) if page.snippets else None
    hits: list[Hit] = []
    for key, lexical_rank, semantic_rank, score, similarity in zip(
        shown,
        numbers_for(ranking.lexical_ranks, shown),
        numbers_for(ranking.semantic_ranks, shown),
        numbers_for(ranking.scores, shown),
        numbers_for(ranking.similarities, shown),
        strict=True,
    ):
        paper = papers.get(key)
        if paper is None:
            continue  # deleted since the index was built
        if key in pinned_keys:
            found_by = "identifier"
        elif score is None:  # a lexical match past the candidates (a date order)
            found_by, score = "lexical", 0.0
        elif lexical_rank and semantic_rank:
            found_by = "both"
        else:
            found_by = "lexical" if lexical_rank else "semantic"
        hits.append(
            make_hit(
                paper,
                1.0 if score is None else score,
                stems,
                found_by,
                lexical_rank,
                semantic_rank,
                similarity,
            )
        )
    return SearchResults(
        query.text,
        hits,
        total,
        page.offset,
        notes,
        ranking.close_match or bool(pinned),
        total_exact=ranking.matches_exact or not ranking.close_match,
        ranked=len(keys),
    )


# Up to this many papers, their local votes are read by key; past it, all at once.
_VOTES_COUNTED_BY_PAPER = 5000


def _in_order(keys: list[int], values: NDArray[np.int32], extra: dict[int, int]) -> list[int]:
    """``keys`` by their ``values`` (an index array: dates, upvotes) plus ``extra``, the
    highest first; stable, a key past ``values`` (newer than the index) counting 0."""
    found = np.asarray(keys, dtype=np.int64)
    known = found < len(values)
    order = np.zeros(len(found), np.int64)
    order[known] = -values[found[known]].astype(np.int64)
    if extra:
        order -= np.fromiter((extra.get(key, 0) for key in keys), np.int64, len(keys))
    return [int(key) for key in found[np.argsort(order, kind="stable")]]


def query_stems_of(query: ParsedQuery) -> set[str]:
    """The stems a snippet marks: the query's words, phrases and fielded values."""
    return query_stems(list(query.words + query.phrases) + [value for _, value in query.fielded])


def category_notes(lexical: LexicalIndex | None, categories: Sequence[str]) -> list[str]:
    """Why a ``cat:`` filter matched nothing: no paper has categories, or not these, or
    the papers with the words have none."""
    if lexical is None:
        return []
    if any(len(lexical.keys_with(name.lower(), "categories")) for name in categories):
        return uncategorized_note(lexical, categories)
    asked = ", ".join(f"cat:{name}" for name in categories)
    if not lexical.length_totals.get("categories", 0):
        return [
            f"no paper in this paperfeed has categories, so {asked} matches nothing "
            "(the daily-papers feed gives none; arXiv listings and `paperfeed sync arxiv` do)"
        ]
    return [f"no paper in this paperfeed is in {asked.replace('cat:', '')}"]


def uncategorized_note(lexical: LexicalIndex | None, categories: Sequence[str]) -> list[str]:
    """Why a ``cat:`` filter over words that some papers have matched nothing: the
    papers without categories (the daily-papers feed gives none) are left out."""
    if lexical is None or not categories:
        return []
    without = sum(
        int(np.count_nonzero(segment.lengths["categories"][segment.live] == 0))
        for segment in lexical.segments
    )
    if not without:
        return []
    asked = ", ".join(f"cat:{name}" for name in categories)
    return [
        f"{asked} leaves out the {without:,} of {lexical.indexed_documents:,} papers that "
        "have no categories (the daily-papers feed gives none; arXiv listings do)"
    ]


def no_match_note(best: float | None, floor: float) -> str:
    """Why the answer is only the nearest few: nothing matched and nothing was close."""
    if best is None:
        return "no paper matches these words"
    return (
        f"no close match: no paper has these words, and the nearest by meaning is only "
        f"{best:.2f} similar (a close match is at least {floor:.2f}); showing the nearest few"
    )


def far_from_text_note(hits: Sequence[Hit], floor: float) -> str | None:
    """Why papers like a pasted text are only the nearest few, as a search says it
    (``ranking.is_close_match`` on its candidates): none shares a word with the text
    and none is ``floor`` similar in meaning. None when some hit is close."""
    if not hits or any(
        hit.found_by != "semantic" or (hit.similarity or 0.0) >= floor for hit in hits
    ):
        return None
    best = max((hit.similarity for hit in hits if hit.similarity is not None), default=None)
    return no_match_note(best, floor)
