"""Collections: a user's reading lists, private or public, and who may see or change them.

A private collection does not exist for anyone but its owner (it answers "not found",
so its existence does not leak); a public one can be read by anyone and changed only by
its owner. Export to reference managers is in ``exporting``, import from them in
``importing``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from paperfeed.ingest import normalize_paper_id
from paperfeed.models import StoredPaper
from paperfeed.store import Store
from paperfeed.store import collections as collection_rows
from paperfeed.store.accounts import User
from paperfeed.store.collections import Collection
from paperfeed.store.moderation import hidden_paper_keys, is_hidden
from paperfeed.typed_text import unwritable_character

__all__ = [
    "Collection",
    "CollectionError",
    "CollectionNotFoundError",
    "MAX_COLLECTIONS_PER_USER",
    "NotYourCollectionError",
    "PaperWithdrawnError",
]

MAX_NAME_CHARACTERS = 200
MAX_DESCRIPTION_CHARACTERS = 2000
MAX_COLLECTIONS_PER_USER = 200
MAX_PAPERS_PER_COLLECTION = 10_000


class CollectionError(ValueError):
    """Bad collection input; the message names the field and the value."""


class CollectionNotFoundError(LookupError):
    """No such collection for this viewer (or no such paper)."""


class NotYourCollectionError(PermissionError):
    """A public collection of another user cannot be changed."""


class PaperWithdrawnError(CollectionError):
    """The paper was withdrawn from arXiv: it stays where it was saved, but is not added."""


def withdrawn_message(paper: StoredPaper) -> str:
    return (
        f"paper {paper.arxiv_id} was withdrawn from arXiv (seen {paper.withdrawn_on}); "
        "collections that hold it keep it, but it is not added to more"
    )


def hidden_message(paper: StoredPaper) -> str:
    return (
        f"paper {paper.arxiv_id} was hidden by a moderator; collections that hold it keep "
        "it, but it is not added to more"
    )


def _name(value: object) -> str:
    if not isinstance(value, str):
        raise CollectionError(f"name must be text (got {type(value).__name__})")
    name = " ".join(value.split())
    if not name:
        raise CollectionError("name is empty")
    problem = unwritable_character(name)
    if problem:
        raise CollectionError(f"name contains {problem}")
    if len(name) > MAX_NAME_CHARACTERS:
        raise CollectionError(
            f"name is {len(name)} characters long (at most {MAX_NAME_CHARACTERS})"
        )
    return name


def _description(value: object) -> str:
    if not isinstance(value, str):
        raise CollectionError(f"description must be text (got {type(value).__name__})")
    # a browser's form sends CRLF; a lone CR (old Mac) is a line break too, not a control
    description = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(description) > MAX_DESCRIPTION_CHARACTERS:
        raise CollectionError(
            f"description is {len(description)} characters long "
            f"(at most {MAX_DESCRIPTION_CHARACTERS})"
        )
    problem = unwritable_character(description, lines=True)
    if problem:
        raise CollectionError(f"description contains {problem}")
    return description


def _public(value: object) -> bool:
    if not isinstance(value, bool):
        raise CollectionError(f"is_public must be true or false (got {value!r})")
    return value


def create_collection(
    store: Store, user: User, name: object, description: object = "", is_public: object = False
) -> Collection:
    """A new, empty collection of ``user``.

    Raises:
        CollectionError: a bad name, description or flag, or too many collections.
    """
    values = (_name(name), _description(description), _public(is_public))
    if len(collection_rows.user_collections(store, user.id)) >= MAX_COLLECTIONS_PER_USER:
        raise CollectionError(f"you have {MAX_COLLECTIONS_PER_USER} collections already (the most)")
    collection_id = collection_rows.insert_collection(store, user.id, *values, time.time())
    return _found(store, collection_id)


def _found(store: Store, collection_id: int) -> Collection:
    collection = collection_rows.find_collection(store, collection_id)
    if collection is None:
        raise CollectionNotFoundError(f"no collection {collection_id}")
    return collection


def visible_collection(store: Store, collection_id: int, viewer: User | None) -> Collection:
    """The collection, if ``viewer`` may see it (public, or their own).

    Raises:
        CollectionNotFoundError: it does not exist, or it is someone else's private one.
    """
    collection = collection_rows.find_collection(store, collection_id)
    if collection is None or (
        not collection.is_public and (viewer is None or viewer.id != collection.user_id)
    ):
        raise CollectionNotFoundError(f"no collection {collection_id}")
    return collection


def owned_collection(store: Store, collection_id: int, user: User) -> Collection:
    """The collection, if ``user`` owns it.

    Raises:
        CollectionNotFoundError: it does not exist or is another user's private one.
        NotYourCollectionError: it is another user's public one.
    """
    collection = visible_collection(store, collection_id, user)
    if collection.user_id != user.id:
        raise NotYourCollectionError(
            f"collection {collection_id} belongs to another user; only they can change it"
        )
    return collection


def update_collection(
    store: Store,
    user: User,
    collection_id: int,
    name: object = None,
    description: object = None,
    is_public: object = None,
) -> Collection:
    """Rename, describe or change the visibility of one's own collection."""
    owned_collection(store, collection_id, user)
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = _name(name)
    if description is not None:
        values["description"] = _description(description)
    if is_public is not None:
        values["is_public"] = _public(is_public)
    if values:
        collection_rows.update_collection(store, collection_id, time.time(), **values)
    return _found(store, collection_id)


def delete_collection(store: Store, user: User, collection_id: int) -> None:
    """Delete one's own collection (its papers stay in the store)."""
    owned_collection(store, collection_id, user)
    collection_rows.delete_collection(store, collection_id)


def stored_paper(store: Store, arxiv_id: str) -> StoredPaper:
    """The stored paper with this id.

    Raises:
        CollectionError: not an arXiv id.
        CollectionNotFoundError: no such paper in the store.
    """
    normalized = normalize_paper_id(arxiv_id) if isinstance(arxiv_id, str) else None
    if normalized is None:
        raise CollectionError(
            f"{arxiv_id!r} is not an arXiv id or a DOI (expected e.g. 2401.00165)"
        )
    paper = store.get_paper(normalized)
    if paper is None:
        raise CollectionNotFoundError(f"no paper {normalized} in this paperfeed")
    return paper


def add_papers(store: Store, user: User, collection_id: int, keys: list[int]) -> list[int]:
    """Add stored papers (by key) to one's own collection; returns the keys newly added.

    Raises:
        CollectionError: the collection would hold more than ``MAX_PAPERS_PER_COLLECTION``.
    """
    collection = owned_collection(store, collection_id, user)
    if collection.paper_count + len(keys) > MAX_PAPERS_PER_COLLECTION:
        raise CollectionError(
            f"collection {collection_id} would hold more than {MAX_PAPERS_PER_COLLECTION:,} papers"
        )
    return collection_rows.add_papers(store, collection_id, keys, time.time())


def add_paper(store: Store, user: User, collection_id: int, arxiv_id: str) -> bool:
    """Save a paper in one's own collection; False when it was there already.

    Raises:
        PaperWithdrawnError: the paper was withdrawn from arXiv and is not saved yet.
        CollectionNotFoundError: no such paper, or one a moderator hid (not saved yet).
    """
    owned_collection(store, collection_id, user)
    paper = stored_paper(store, arxiv_id)
    hidden = is_hidden(store, paper.key)
    if paper.withdrawn_on or hidden:
        if paper.key in memberships(store, user).get(collection_id, set()):
            return False
        if hidden:  # not found, as its page is
            raise CollectionNotFoundError(hidden_message(paper))
        raise PaperWithdrawnError(withdrawn_message(paper))
    return bool(add_papers(store, user, collection_id, [paper.key]))


def remove_paper(store: Store, user: User, collection_id: int, arxiv_id: str) -> bool:
    """Take a paper out of one's own collection; False when it was not in it."""
    owned_collection(store, collection_id, user)
    paper = stored_paper(store, arxiv_id)
    return collection_rows.remove_paper(store, collection_id, paper.key, time.time())


def collection_papers(store: Store, collection: Collection) -> list[tuple[StoredPaper, float]]:
    """The papers of a collection with when each was added, most recently added first."""
    rows = collection_rows.collection_paper_keys(store, collection.id)
    papers = store.get_papers([key for key, _ in rows])
    return [(papers[key], added) for key, added in rows if key in papers]


def papers_shown(
    store: Store, collection: Collection, viewer: User | None
) -> list[tuple[StoredPaper, float]]:
    """``collection_papers`` as ``viewer`` sees them: its owner (and admins) see every
    paper it holds; anyone else not those a moderator hid, which are on no page but the
    owner's own list."""
    papers = collection_papers(store, collection)
    if viewer is not None and (viewer.id == collection.user_id or viewer.is_admin):
        return papers
    hidden = set(hidden_paper_keys(store))  # a small table
    return [(paper, added) for paper, added in papers if paper.key not in hidden]


def collections_of(store: Store, user: User) -> list[Collection]:
    """A user's collections, most recently changed first."""
    return collection_rows.user_collections(store, user.id)


def public_collections_of(store: Store, user_id: int) -> list[Collection]:
    return [c for c in collection_rows.user_collections(store, user_id) if c.is_public]


def memberships(
    store: Store, user: User, paper_keys: Sequence[int] | None = None
) -> dict[int, set[int]]:
    """For each of the user's collections, the store keys of its papers (of
    ``paper_keys`` only, when given)."""
    return collection_rows.user_memberships(store, user.id, paper_keys)
