"""The parts of a paper's card that depend on the paper alone, rendered once and kept.

A results page renders 20 cards, and ~65 escapes and a dozen macro calls a card made the
templates a quarter of a search page's CPU (bench/request_stages.py). The authors and date,
the code and project links, the category tags and the TL;DR with keywords read nothing
but the paper, and the same papers come back page after page (in bench/http_load.py's
distinct searches, 2 cards in 3 show a paper an earlier search showed): each is rendered
by its macro in ``templates/_paper_fragments.html`` and kept, keyed by the paper and
checked against the fields it was made from, so an edited paper is rendered again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import cast

from jinja2 import Environment
from markupsafe import Markup

from paperfeed.models import StoredPaper
from paperfeed.search.caching import ResultCache

TEMPLATE = "_paper_fragments.html"
FRAGMENT_BYTES = 16 * 1024 * 1024  # per process; ~1 KB a fragment, ~4 a paper
FRAGMENT_ENTRIES = 4 * 16_384  # the bytes bind first; ResultCache bounds entries too
# What each fragment's macro reads of the paper: the fragment is kept while these equal.
FIELDS: dict[str, Callable[[StoredPaper], Hashable]] = {
    "authors_and_date": lambda paper: (tuple(paper.authors), paper.date),
    "links": lambda paper: (
        paper.github_repo,
        paper.github_stars,
        paper.project_page,
        paper.withdrawn_on,
    ),
    "tags": lambda paper: tuple(paper.categories),
    "triage": lambda paper: (paper.shown_tldr, tuple(paper.shown_keywords)),
}


def fragment_bytes(kept: object) -> int:
    """A kept ``(fields, html)``'s size: twice the HTML's length and, roughly, the strings
    of the fields; ~1 µs, where ``caching.approximate_bytes``'s walk took ~7 µs, as long as
    rendering a small fragment again (a ``ResultCache`` sizes each entry it keeps)."""
    fields, html = cast(tuple[Hashable, str], kept)
    size = 2 * len(html) + 200
    for value in fields if isinstance(fields, tuple) else (fields,):
        if isinstance(value, tuple):
            size += sum(60 + len(item) for item in value if isinstance(item, str))
        elif isinstance(value, str):
            size += 60 + len(value)
    return size


class PaperFragments:
    """``fragments(name, paper)``: the fragment ``name`` of ``FIELDS`` for ``paper``, as
    safe HTML; a template global. One entry per paper and fragment, with the fields it was
    made from, in a ``ResultCache``: the least recently used go past ``budget_bytes``."""

    def __init__(self, environment: Environment, budget_bytes: int = FRAGMENT_BYTES) -> None:
        self.environment = environment
        self._kept: ResultCache[tuple[Hashable, Markup]] = ResultCache(
            FRAGMENT_ENTRIES, budget_bytes, measure=fragment_bytes
        )
        self.made = 0  # fragments rendered (the rest were kept ones)

    def __call__(self, name: str, paper: StoredPaper) -> Markup:
        fields = FIELDS[name](paper)
        key = (name, paper.key)
        found = self._kept.get(key)
        if found is not None and found[0] == fields:
            return found[1]
        macro = getattr(self.environment.get_template(TEMPLATE).module, name)
        html = Markup(macro(paper))
        self.made += 1
        self._kept.keep(key, (fields, html))
        return html

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def total_bytes(self) -> int:
        return self._kept.bytes
