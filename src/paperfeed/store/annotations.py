"""Keywords and TL;DRs kept with each paper: which papers need them, and saving them.

A paper's annotation is fresh while ``annotated_hash`` equals its ``content_hash`` (as
an embedding is): a changed title or abstract is annotated again, an unchanged one never.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, func, or_, select, update

from paperfeed.store import schema
from paperfeed.store.database import Store

_papers = schema.papers


@dataclass(frozen=True)
class AnnotationTask:
    """A paper whose keywords and TL;DR need (re-)making."""

    key: int
    content_hash: str
    title: str
    abstract: str


@dataclass(frozen=True)
class AnnotationRow:
    """What to save for one paper."""

    key: int
    content_hash: str
    keywords: Sequence[str]
    tldr: str


def _stale() -> ColumnElement[bool]:
    return or_(
        _papers.c.annotated_hash.is_(None), _papers.c.annotated_hash != _papers.c.content_hash
    )


def _fresh() -> ColumnElement[bool]:
    return _papers.c.annotated_hash == _papers.c.content_hash


def count_papers_to_annotate(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.scalar(select(func.count()).select_from(_papers).where(_stale())) or 0
        )


def papers_to_annotate(store: Store, limit: int, after_key: int = 0) -> list[AnnotationTask]:
    """Up to ``limit`` papers with no fresh annotation, in key order after ``after_key``."""
    statement = (
        select(_papers.c.key, _papers.c.content_hash, _papers.c.title, _papers.c.abstract)
        .where(_stale(), _papers.c.key > after_key)
        .order_by(_papers.c.key)
        .limit(limit)
    )
    with store.engine.connect() as connection:
        return [AnnotationTask(*row) for row in connection.execute(statement)]


def save_annotations(store: Store, rows: Sequence[AnnotationRow]) -> None:
    """Save annotations in one transaction; one made from an old text (the paper changed
    meanwhile) is saved too, and ``annotated_hash`` says it is stale."""
    if not rows:
        return
    statement = (
        update(_papers)
        .where(_papers.c.key == bindparam("row_key"))
        .values(
            keywords=bindparam("new_keywords"),
            tldr=bindparam("new_tldr"),
            annotated_hash=bindparam("new_hash"),
        )
    )
    with store.engine.begin() as connection:
        connection.execute(
            statement,
            [
                {
                    "row_key": row.key,
                    "new_keywords": json.dumps(list(row.keywords)),
                    "new_tldr": row.tldr,
                    "new_hash": row.content_hash,
                }
                for row in rows
            ],
        )


def forget_annotations(store: Store) -> None:
    """Mark every annotation stale (a new annotator makes different ones)."""
    with store.engine.begin() as connection:
        connection.execute(update(_papers).values(annotated_hash=None))


def fresh_annotations(store: Store) -> list[tuple[str, str, list[str], str]]:
    """``(arXiv id, content hash, keywords, TL;DR)`` of every paper annotated from its
    current text (for the quick-start bundle)."""
    statement = (
        select(_papers.c.arxiv_id, _papers.c.content_hash, _papers.c.keywords, _papers.c.tldr)
        .where(_fresh())
        .order_by(_papers.c.key)
    )
    with store.engine.connect() as connection:
        return [
            (arxiv_id, content_hash, json.loads(keywords or "[]"), tldr or "")
            for arxiv_id, content_hash, keywords, tldr in connection.execute(statement)
        ]


def keys_and_hashes(store: Store) -> dict[str, tuple[int, str]]:
    """``arXiv id -> (key, content hash)`` of every stored paper."""
    with store.engine.connect() as connection:
        return {
            arxiv_id: (int(key), content_hash)
            for arxiv_id, key, content_hash in connection.execute(
                select(_papers.c.arxiv_id, _papers.c.key, _papers.c.content_hash)
            )
        }


def keys_with_fresh_annotations(store: Store) -> set[int]:
    """Keys of the papers annotated from their current text."""
    statement = select(_papers.c.key).where(_fresh())
    with store.engine.connect() as connection:
        return {int(key) for key in connection.scalars(statement)}
