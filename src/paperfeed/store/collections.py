"""Collections (reading lists) and their papers: database reads and writes.

Policy (who may see or change a collection, name rules, export and import) lives in
``paperfeed.collections``; this module only stores and reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, func, select
from sqlalchemy.exc import IntegrityError

from paperfeed.store import schema
from paperfeed.store.database import Store, is_row_id, key_batches, value_batches

_COLLECTIONS = schema.collections
_MEMBERS = schema.collection_papers


@dataclass(frozen=True)
class Collection:
    """A reading list, with its owner's display name and how many papers it holds."""

    id: int
    user_id: int
    owner: str
    name: str
    description: str
    is_public: bool
    created_at: float
    updated_at: float
    paper_count: int


def _select() -> Any:
    count = (
        select(func.count())
        .where(_MEMBERS.c.collection_id == _COLLECTIONS.c.id)
        .correlate(_COLLECTIONS)
        .scalar_subquery()
    )
    return select(
        _COLLECTIONS, schema.users.c.name.label("owner"), count.label("paper_count")
    ).join(schema.users, schema.users.c.id == _COLLECTIONS.c.user_id)


def _collection(row: Row[Any]) -> Collection:
    return Collection(
        id=int(row.id),
        user_id=int(row.user_id),
        owner=row.owner,
        name=row.name,
        description=row.description,
        is_public=bool(row.is_public),
        created_at=float(row.created_at),
        updated_at=float(row.updated_at),
        paper_count=int(row.paper_count or 0),
    )


def insert_collection(
    store: Store, user_id: int, name: str, description: str, is_public: bool, at: float
) -> int:
    """Add a collection; returns its id."""
    with store.engine.begin() as connection:
        result = connection.execute(
            _COLLECTIONS.insert().values(
                user_id=user_id,
                name=name,
                description=description,
                is_public=is_public,
                created_at=at,
                updated_at=at,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def find_collection(store: Store, collection_id: int) -> Collection | None:
    if not is_row_id(collection_id):
        return None  # no such row, and a query would overflow the driver's integer
    with store.engine.connect() as connection:
        row = connection.execute(_select().where(_COLLECTIONS.c.id == collection_id)).first()
    return _collection(row) if row else None


def user_collections(store: Store, user_id: int) -> list[Collection]:
    """A user's collections, most recently changed first."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            _select()
            .where(_COLLECTIONS.c.user_id == user_id)
            .order_by(_COLLECTIONS.c.updated_at.desc(), _COLLECTIONS.c.id.desc())
        ).all()
    return [_collection(row) for row in rows]


def update_collection(store: Store, collection_id: int, at: float, **values: Any) -> None:
    """Change some of name, description, is_public."""
    with store.engine.begin() as connection:
        connection.execute(
            _COLLECTIONS.update()
            .where(_COLLECTIONS.c.id == collection_id)
            .values(updated_at=at, **values)
        )


def delete_collection(store: Store, collection_id: int) -> None:
    with store.engine.begin() as connection:
        connection.execute(delete(_MEMBERS).where(_MEMBERS.c.collection_id == collection_id))
        connection.execute(delete(_COLLECTIONS).where(_COLLECTIONS.c.id == collection_id))


def add_papers(store: Store, collection_id: int, paper_keys: Sequence[int], at: float) -> list[int]:
    """Add papers in one transaction; returns the keys that were not in it yet."""
    added: list[int] = []
    with store.engine.begin() as connection:
        present = set(
            connection.scalars(
                select(_MEMBERS.c.paper_key).where(_MEMBERS.c.collection_id == collection_id)
            )
        )
        for key in dict.fromkeys(int(key) for key in paper_keys):
            if key in present:
                continue
            # a savepoint, so a concurrent insert of the same paper only skips that one
            try:
                with connection.begin_nested():
                    connection.execute(
                        _MEMBERS.insert().values(
                            collection_id=collection_id, paper_key=key, added_at=at
                        )
                    )
            except IntegrityError:
                continue
            added.append(key)
        if added:
            connection.execute(
                _COLLECTIONS.update()
                .where(_COLLECTIONS.c.id == collection_id)
                .values(updated_at=at)
            )
    return added


def remove_paper(store: Store, collection_id: int, paper_key: int, at: float) -> bool:
    """Take a paper out; False when it was not in the collection."""
    with store.engine.begin() as connection:
        result = connection.execute(
            delete(_MEMBERS).where(
                _MEMBERS.c.collection_id == collection_id, _MEMBERS.c.paper_key == paper_key
            )
        )
        if result.rowcount:
            connection.execute(
                _COLLECTIONS.update()
                .where(_COLLECTIONS.c.id == collection_id)
                .values(updated_at=at)
            )
    return bool(result.rowcount)


def collection_paper_keys(store: Store, collection_id: int) -> list[tuple[int, float]]:
    """``(paper key, added_at)`` of a collection's papers, most recently added first."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(_MEMBERS.c.paper_key, _MEMBERS.c.added_at)
            .where(_MEMBERS.c.collection_id == collection_id)
            .order_by(_MEMBERS.c.added_at.desc(), _MEMBERS.c.paper_key)
        ).all()
    return [(int(row.paper_key), float(row.added_at)) for row in rows]


def user_memberships(
    store: Store, user_id: int, paper_keys: Sequence[int] | None = None
) -> dict[int, set[int]]:
    """For each of a user's collections, the keys of its papers (of ``paper_keys`` only,
    when given)."""
    found: dict[int, set[int]] = {}
    query = (
        select(_MEMBERS.c.collection_id, _MEMBERS.c.paper_key)
        .join(_COLLECTIONS, _COLLECTIONS.c.id == _MEMBERS.c.collection_id)
        .where(_COLLECTIONS.c.user_id == user_id)
    )
    batches = (
        [query]
        if paper_keys is None
        else [query.where(_MEMBERS.c.paper_key.in_(batch)) for batch in key_batches(paper_keys)]
    )
    with store.engine.connect() as connection:
        for batch in batches:
            for collection_id, paper_key in connection.execute(batch):
                found.setdefault(int(collection_id), set()).add(int(paper_key))
    return found


# -- finding papers for an import -----------------------------------------------------


def keys_by_arxiv_id(store: Store, arxiv_ids: Sequence[str]) -> dict[str, int]:
    """Store keys of the stored papers among ``arxiv_ids`` (normalised ids)."""
    found: dict[str, int] = {}
    with store.engine.connect() as connection:
        for batch in value_batches(arxiv_ids):
            for arxiv_id, key in connection.execute(
                select(schema.papers.c.arxiv_id, schema.papers.c.key).where(
                    schema.papers.c.arxiv_id.in_(batch)
                )
            ):
                found[str(arxiv_id)] = int(key)
    return found


def keys_by_doi(store: Store, dois: Sequence[str]) -> dict[str, int]:
    """Store keys by lower-cased DOI, for the papers whose DOI is among ``dois``."""
    found: dict[str, int] = {}
    with store.engine.connect() as connection:
        for batch in value_batches(doi.lower() for doi in dois):
            for doi, key in connection.execute(
                select(schema.papers.c.doi, schema.papers.c.key).where(
                    func.lower(schema.papers.c.doi).in_(batch)
                )
            ):
                found[str(doi).lower()] = int(key)
    return found


def iter_titles(store: Store, batch_size: int = 5000) -> Iterator[list[tuple[int, str]]]:
    """``(key, title)`` of every paper, a batch at a time in key order."""
    last_key = 0
    while True:
        with store.engine.connect() as connection:
            rows = connection.execute(
                select(schema.papers.c.key, schema.papers.c.title)
                .where(schema.papers.c.key > last_key)
                .order_by(schema.papers.c.key)
                .limit(batch_size)
            ).all()
        if not rows:
            return
        last_key = int(rows[-1].key)
        yield [(int(row.key), str(row.title)) for row in rows]
