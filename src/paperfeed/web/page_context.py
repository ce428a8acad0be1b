"""What every page may ask about papers, loaded on first use: comment totals and,
for a signed-in user, their collections and which papers are in them."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from paperfeed.collections import collections_of, memberships
from paperfeed.discussion import comment_counts, comment_total
from paperfeed.feedback import marked_keys, marked_papers
from paperfeed.models import StoredPaper
from paperfeed.store import Store
from paperfeed.store.accounts import User
from paperfeed.store.collections import Collection


class CommentTotals:
    """``comment_total(paper)`` in templates: the source's comments plus ours.

    The papers a page says it shows are counted together, in one query, on first use; any
    other paper is counted when asked for. Counting only what is shown keeps a page's cost
    flat as discussion grows: counting every commented paper took 12 ms a page at 10,000
    comments and 156 ms at 100,000 (SQLite, the quick-start database)."""

    def __init__(self, store: Store, shown: Sequence[StoredPaper] = ()) -> None:
        self._store = store
        self._shown = shown
        self._counted: set[int] = set()
        self._counts: dict[int, int] = {}

    def __call__(self, paper: StoredPaper) -> int:
        if paper.key not in self._counted:
            keys = {paper.key} | {shown.key for shown in self._shown}
            keys -= self._counted
            self._counts.update(comment_counts(self._store, sorted(keys)))
            self._counted |= keys
        return comment_total(paper, self._counts)


class Saving:
    """The signed-in user's collections, for the save menu on every card."""

    def __init__(self, store: Store, user: User) -> None:
        self._store = store
        self._user = user

    @cached_property
    def collections(self) -> list[Collection]:
        return collections_of(self._store, self._user)

    @cached_property
    def _members(self) -> dict[int, set[int]]:
        return memberships(self._store, self._user)

    def has(self, collection: Collection, paper: StoredPaper) -> bool:
        return paper.key in self._members.get(collection.id, set())

    def saved(self, paper: StoredPaper) -> bool:
        """Whether the paper is in any of the user's collections."""
        return any(paper.key in keys for keys in self._members.values())


class Dismissals:
    """The signed-in user's "not for me" papers, for the button on every card and /account."""

    def __init__(self, store: Store, user: User) -> None:
        self._store = store
        self._user = user

    @cached_property
    def _keys(self) -> set[int]:
        return marked_keys(self._store, self._user)

    def has(self, paper: StoredPaper) -> bool:
        return paper.key in self._keys

    @cached_property
    def papers(self) -> list[tuple[StoredPaper, float]]:
        """``(paper, marked at)``, newest first."""
        return marked_papers(self._store, self._user)
