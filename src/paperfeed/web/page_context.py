"""What every page may ask about papers, loaded on first use: comment totals and,
for a signed-in user, their collections and which papers are in them."""

from __future__ import annotations

from functools import cached_property

from paperfeed.collections import collections_of, memberships
from paperfeed.discussion import comment_total, site_comment_counts
from paperfeed.feedback import marked_keys, marked_papers
from paperfeed.models import StoredPaper
from paperfeed.store import Store
from paperfeed.store.accounts import User
from paperfeed.store.collections import Collection


class CommentTotals:
    """``comment_total(paper)`` in templates: the source's comments plus ours."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @cached_property
    def _counts(self) -> dict[int, int]:
        return site_comment_counts(self._store)

    def __call__(self, paper: StoredPaper) -> int:
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
