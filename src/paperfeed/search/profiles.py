"""Author and organisation pages: their papers, co-authors, and papers and upvotes per month.

Display names are the sources' own spellings. Where one name is spelled several ways
(case, spacing: "university of science and technology  of china" and "University of
Science and Technology of China"), the page shows the most used spelling among those
that are not all lower case, white space collapsed; lower case only when every source
writes it so.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.lexical import LexicalIndex
from paperfeed.index.tokenizer import tokenize
from paperfeed.models import StoredPaper
from paperfeed.search.feeds import total_upvotes
from paperfeed.search.trends import month_range
from paperfeed.store import Store
from paperfeed.store.people import (
    fold_name,
    organization_spellings,
    papers_by_author,
    papers_of_organization,
)

COAUTHORS_SHOWN = 30
NAMES_REFRESH_SECONDS = 60.0


@dataclass(frozen=True)
class MonthActivity:
    """Papers dated in a month and their upvotes (source plus site votes)."""

    month: str  # YYYY-MM
    papers: int
    upvotes: int


@dataclass(frozen=True)
class Profile:
    """An author or an organisation: everything its page shows."""

    kind: str  # "author" or "organization"
    name: str  # the display name
    papers: tuple[StoredPaper, ...]  # newest first
    upvotes: Mapping[int, int]  # total upvotes by paper key
    months: tuple[MonthActivity, ...]
    coauthors: tuple[tuple[str, int], ...]  # authors (of an organisation) with paper counts
    organizations: tuple[tuple[str, int], ...]  # organisations (of an author)

    @property
    def total_upvotes(self) -> int:
        return sum(self.upvotes.values())


def display_name(spellings: Mapping[str, int]) -> str:
    """The spelling to show for one name, from its spellings and how often each is used."""

    def preference(item: tuple[str, int]) -> tuple[bool, int, str]:
        spelling, count = item
        return (spelling == spelling.lower() and spelling != spelling.upper(), -count, spelling)

    best = min(spellings.items(), key=preference)[0]
    return " ".join(best.split())


def _activity(papers: Iterable[StoredPaper], upvotes: Mapping[int, int]) -> list[MonthActivity]:
    per_month: dict[str, list[int]] = {}
    for paper in papers:
        if paper.date:
            entry = per_month.setdefault(paper.date[:7], [0, 0])
            entry[0] += 1
            entry[1] += upvotes.get(paper.key, 0)
    if not per_month:
        return []
    return [
        MonthActivity(month, *per_month.get(month, [0, 0]))
        for month in month_range(min(per_month), max(per_month))
    ]


def _counted(names: Iterable[str], limit: int | None = None) -> tuple[tuple[str, int], ...]:
    """Names with their counts, most frequent first, spellings merged by ``fold_name``."""
    spellings: dict[str, Counter[str]] = {}
    for name in names:
        if name.strip():
            spellings.setdefault(fold_name(name), Counter())[name] += 1
    ranked = sorted(
        ((display_name(found), sum(found.values())) for found in spellings.values()),
        key=lambda item: (-item[1], item[0].casefold()),
    )
    return tuple(ranked[:limit])


def author_profile(store: Store, name: str, lexical: LexicalIndex | None = None) -> Profile | None:
    """The author named ``name`` (case and spacing ignored), or None when no paper has them.

    With the search index (``lexical``), the papers whose authors hold every term of the
    name are the candidates, and only papers stored since the index was built are
    scanned; without it, every paper is."""
    papers = papers_by_author(store, name, *_indexed_candidates(lexical, name))
    if not papers:
        return None
    wanted = fold_name(name)
    own = [author for paper in papers for author in paper.authors if fold_name(author) == wanted]
    upvotes = total_upvotes(store, papers)
    coauthors = _counted(
        (a for paper in papers for a in dict.fromkeys(paper.authors) if fold_name(a) != wanted),
        COAUTHORS_SHOWN,
    )
    return Profile(
        kind="author",
        name=display_name(Counter(own)),
        papers=tuple(papers),
        upvotes=MappingProxyType(upvotes),
        months=tuple(_activity(papers, upvotes)),
        coauthors=coauthors,
        organizations=_counted(paper.organization for paper in papers if paper.organization),
    )


def _indexed_candidates(
    lexical: LexicalIndex | None, name: str
) -> tuple[Sequence[int] | None, int]:
    """``papers_by_author``'s ``among`` and ``after_key`` from the index's author postings:
    the indexed papers whose authors hold every term of ``name``, and the highest indexed
    key (papers stored after it are not in the postings yet)."""
    terms = set(tokenize(name))
    if lexical is None or not terms:
        return None, 0  # nothing to narrow by: every paper is scanned
    live = lexical.live_keys()
    if not len(live):
        return None, 0
    found: NDArray[np.int64] | None = None
    for term in terms:
        keys = lexical.keys_with(term, "authors")
        found = keys if found is None else np.intersect1d(found, keys, assume_unique=True)
    assert found is not None
    return found.tolist(), int(live.max())


def organization_profile(store: Store, name: str) -> Profile | None:
    """The organisation named ``name`` in any of its spellings, or None when unknown."""
    spellings = organization_spellings(store).get(fold_name(name))
    if not spellings:
        return None
    papers = papers_of_organization(store, sorted(spellings))
    upvotes = total_upvotes(store, papers)
    return Profile(
        kind="organization",
        name=display_name(spellings),
        papers=tuple(papers),
        upvotes=MappingProxyType(upvotes),
        months=tuple(_activity(papers, upvotes)),
        coauthors=_counted(
            (a for paper in papers for a in dict.fromkeys(paper.authors)), COAUTHORS_SHOWN
        ),
        organizations=(),
    )


class OrganizationNames:
    """Display names of organisations by any spelling, re-read at most once a minute.

    Cards show the organisation of every paper; reading the spellings (one grouped scan
    of the papers) once a minute instead of on every card keeps pages fast, at the price
    of a new spelling showing as typed for up to a minute after an ingest.
    """

    def __init__(self, store: Store, refresh_seconds: float = NAMES_REFRESH_SECONDS) -> None:
        self.store = store
        self.refresh_seconds = refresh_seconds
        self._names: Mapping[str, str] = MappingProxyType({})
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def _current(self) -> Mapping[str, str]:
        now = time.monotonic()
        if now - self._read_at >= self.refresh_seconds:
            with self._lock:
                if now - self._read_at >= self.refresh_seconds:
                    grouped = organization_spellings(self.store)
                    self._names = MappingProxyType(
                        {folded: display_name(found) for folded, found in grouped.items()}
                    )
                    self._read_at = now
        return self._names

    def display(self, spelling: str | None) -> str:
        """How to show ``spelling``: its organisation's display name (itself if unknown)."""
        if not spelling:
            return ""
        return self._current().get(fold_name(spelling), " ".join(spelling.split()))
