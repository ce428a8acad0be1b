"""What every page may ask about the papers it shows, read on first use: comment totals
and, for a signed-in user, their collections, which papers are in them and which they
marked "not for me"."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cached_property

from paperfeed.collections import collections_of, memberships
from paperfeed.discussion import comment_counts, comment_total
from paperfeed.feedback import marked_keys, marked_papers
from paperfeed.models import StoredPaper
from paperfeed.store import Store
from paperfeed.store.accounts import User
from paperfeed.store.collections import Collection


class _ShownPapers(ABC):
    """Answers about a page's papers, read for all the papers the page names at once, on
    first use, and for any other paper when asked. Reading the site's or the reader's
    whole history instead (every comment, every saved paper, every "not for me") made
    each page slower as that history grew."""

    def __init__(self, shown: Sequence[StoredPaper]) -> None:
        self._shown = shown
        self._read: set[int] = set()

    def _read_for(self, paper: StoredPaper) -> None:
        if paper.key in self._read:
            return
        keys = ({paper.key} | {shown.key for shown in self._shown}) - self._read
        self._read_keys(sorted(keys))
        self._read |= keys

    @abstractmethod
    def _read_keys(self, keys: list[int]) -> None:
        """Read the answers for ``keys``, papers not read before."""


class CommentTotals(_ShownPapers):
    """``comment_total(paper)`` in templates: the source's comments plus ours.

    Counting every commented paper instead took 12 ms a page at 10,000 comments and 156
    ms at 100,000 (SQLite, the quick-start database)."""

    def __init__(self, store: Store, shown: Sequence[StoredPaper] = ()) -> None:
        super().__init__(shown)
        self._store = store
        self._counts: dict[int, int] = {}

    def _read_keys(self, keys: list[int]) -> None:
        self._counts.update(comment_counts(self._store, keys))

    def __call__(self, paper: StoredPaper) -> int:
        self._read_for(paper)
        return comment_total(paper, self._counts)


class Saving(_ShownPapers):
    """The signed-in user's collections, for the save menu on every card."""

    def __init__(self, store: Store, user: User, shown: Sequence[StoredPaper] = ()) -> None:
        super().__init__(shown)
        self._store = store
        self._user = user
        self._members: dict[int, set[int]] = {}

    @cached_property
    def collections(self) -> list[Collection]:
        return collections_of(self._store, self._user)

    def _read_keys(self, keys: list[int]) -> None:
        for collection_id, found in memberships(self._store, self._user, keys).items():
            self._members.setdefault(collection_id, set()).update(found)

    def has(self, collection: Collection, paper: StoredPaper) -> bool:
        self._read_for(paper)
        return paper.key in self._members.get(collection.id, set())

    def saved(self, paper: StoredPaper) -> bool:
        """Whether the paper is in any of the user's collections."""
        self._read_for(paper)
        return any(paper.key in keys for keys in self._members.values())


class Dismissals(_ShownPapers):
    """The signed-in user's "not for me" papers, for the button on every card and /account."""

    def __init__(self, store: Store, user: User, shown: Sequence[StoredPaper] = ()) -> None:
        super().__init__(shown)
        self._store = store
        self._user = user
        self._keys: set[int] = set()

    def _read_keys(self, keys: list[int]) -> None:
        self._keys |= marked_keys(self._store, self._user, keys)

    def has(self, paper: StoredPaper) -> bool:
        self._read_for(paper)
        return paper.key in self._keys

    @cached_property
    def papers(self) -> list[tuple[StoredPaper, float]]:
        """``(paper, marked at)``, newest first."""
        return marked_papers(self._store, self._user)
