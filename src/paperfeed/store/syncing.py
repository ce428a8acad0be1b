"""What the syncs keep in the database about each harvest: where it stands.

A harvest page is stored in one transaction together with the point to resume from
(its resumption token), so a process killed at any moment leaves either the whole page
and the token after it, or neither. Each sync run is recorded by ``store.sync_runs``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from paperfeed.models import Paper
from paperfeed.store import schema
from paperfeed.store.database import (
    Store,
    UpsertCounts,
    resolve_doi_aliases,
    upsert_papers_in,
)
from paperfeed.store.sequencing import next_change_sequence

_STATE = schema.harvest_state


@dataclass(frozen=True)
class HarvestState:
    """Where the incremental harvest of one source stands."""

    source: str
    last_datestamp: str | None  # the latest day completely harvested
    window_from: str | None  # a harvest under way: its window...
    window_until: str | None
    resumption_token: str | None  # ...and the token of its next page


def harvest_state(store: Store, source: str) -> HarvestState | None:
    """The stored state of ``source`` (``"arxiv:cs"``), or None before its first harvest."""
    with store.engine.connect() as connection:
        row = connection.execute(select(_STATE).where(_STATE.c.source == source)).first()
    if row is None:
        return None
    return HarvestState(
        row.source, row.last_datestamp, row.window_from, row.window_until, row.resumption_token
    )


def _write_state(connection: Connection, source: str, **values: object) -> None:
    values["updated_at"] = time.time()
    exists = connection.scalar(
        select(func.count()).select_from(_STATE).where(_STATE.c.source == source)
    )
    if exists:
        connection.execute(_STATE.update().where(_STATE.c.source == source).values(**values))
    else:
        connection.execute(_STATE.insert().values(source=source, **values))


def _mark_withdrawn(connection: Connection, arxiv_ids: Sequence[str], day: str) -> int:
    """Mark stored papers withdrawn (votes, lists and collections stay); returns how many."""
    if not arxiv_ids:
        return 0
    papers = schema.papers
    keys = list(
        connection.scalars(
            select(papers.c.key).where(
                papers.c.arxiv_id.in_(list(arxiv_ids)), papers.c.withdrawn_on.is_(None)
            )
        )
    )
    if not keys:
        return 0
    sequence = next_change_sequence(connection)
    connection.execute(
        papers.update()
        .where(papers.c.key.in_(keys))
        .values(
            withdrawn_on=day,
            change_sequence=sequence,
            updated_at=datetime.now(UTC).isoformat(),
        )
    )
    return len(keys)


def store_harvest_page(
    store: Store,
    source: str,
    papers: Iterable[Paper],
    deleted: Sequence[str],
    deleted_on: str,
    window: tuple[str | None, str | None],
    next_token: str | None,
) -> tuple[UpsertCounts, int]:
    """Store one page and the point to resume from, in one transaction.

    Args:
        source: e.g. ``"arxiv:cs"``.
        papers: the page's papers.
        deleted: arXiv ids the page reports deleted; stored ones are marked withdrawn.
        deleted_on: the date to mark them with.
        window: the harvest's ``(from, until)``.
        next_token: the resumption token of the next page (None: the list is done).

    Returns:
        The upsert counts and how many stored papers were marked withdrawn.
    """
    with store.engine.begin() as connection:
        counts = upsert_papers_in(connection, papers)
        withdrawn = _mark_withdrawn(connection, deleted, deleted_on)
        _write_state(
            connection,
            source,
            window_from=window[0],
            window_until=window[1],
            resumption_token=next_token,
        )
    return counts, withdrawn


def store_preprint_page(
    store: Store,
    source: str,
    papers: Sequence[Paper],
    window: tuple[str, str],
    next_cursor: int | None,
) -> UpsertCounts:
    """Store one page of bioRxiv/medRxiv details and the cursor of the next, in one
    transaction (``next_cursor`` None: the window is done).

    A record of a version older than the one stored (re-harvesting an earlier window, or
    a service listing newest first) never brings the paper back to that version's text;
    but its posting date, when earlier than the stored one, is still the paper's first
    (``published`` and ``first_listed``), as if the versions had come in order.
    """
    with store.engine.begin() as connection:
        resolved = resolve_doi_aliases(connection, list(papers))
        ids = sorted({paper.arxiv_id for paper in resolved})
        stored: dict[str, tuple[str | None, str | None, str | None]] = {}
        papers_table = schema.papers.c
        for start in range(0, len(ids), 500):
            rows = connection.execute(
                select(
                    papers_table.arxiv_id,
                    papers_table.updated,
                    papers_table.published,
                    papers_table.first_listed,
                ).where(papers_table.arxiv_id.in_(ids[start : start + 500]))
            )
            stored.update(
                {row.arxiv_id: (row.updated, row.published, row.first_listed) for row in rows}
            )
        current = []
        for paper in resolved:
            updated, published, first_listed = stored.get(paper.arxiv_id, (None, None, None))
            if (paper.updated or "") >= (updated or ""):
                current.append(paper)
            else:
                dates = _earlier_dates(paper, published, first_listed)
                if dates is not None:
                    current.append(dates)
        counts = upsert_papers_in(connection, current)
        counts.unchanged += len(resolved) - len(current)
        _write_state(
            connection,
            source,
            window_from=window[0],
            window_until=window[1],
            resumption_token=None if next_cursor is None else str(next_cursor),
        )
    return counts


def _earlier_dates(older: Paper, published: str | None, first_listed: str | None) -> Paper | None:
    """Only the dates of an older version's record that are earlier than the stored
    ones (None when there are none): merged, they change nothing else. A first version
    seen after a later one (no first listing stored) brings its own date, in place of
    the later version's estimate."""
    if older.first_listed and first_listed is None and older.published:
        earlier_published: str | None = older.published
    else:
        earlier_published = _earlier(older.published, published)
    earlier_listed = _earlier(older.first_listed, first_listed)
    if earlier_published is None and earlier_listed is None:
        return None
    return Paper(
        older.arxiv_id,
        published=earlier_published,
        first_listed=earlier_listed,
        sources=older.sources,
    )


def _earlier(day: str | None, stored: str | None) -> str | None:
    """``day`` when it is before ``stored`` (or nothing is stored), else None."""
    return day if day and (stored is None or day < stored) else None


def upsert_with_state(
    store: Store, source: str, papers: Iterable[Paper], last_datestamp: str
) -> UpsertCounts:
    """Store papers and advance ``source``'s last datestamp together (one transaction).

    The datestamp never moves back: re-fetching an earlier day leaves it where it is.
    """
    with store.engine.begin() as connection:
        counts = upsert_papers_in(connection, papers)
        old = connection.scalar(select(_STATE.c.last_datestamp).where(_STATE.c.source == source))
        _write_state(connection, source, last_datestamp=max(filter(None, [old, last_datestamp])))
    return counts


def finish_harvest(store: Store, source: str, last_datestamp: str | None) -> None:
    """A harvest window is complete: forget its token, remember how far it reached."""
    with store.engine.begin() as connection:
        values: dict[str, object] = {
            "window_from": None,
            "window_until": None,
            "resumption_token": None,
        }
        if last_datestamp is not None:
            old = connection.scalar(
                select(_STATE.c.last_datestamp).where(_STATE.c.source == source)
            )
            values["last_datestamp"] = max(filter(None, [old, last_datestamp]))
        _write_state(connection, source, **values)


def forget_resumption(store: Store, source: str) -> None:
    """Drop a stale token (the server no longer knows it); the window is harvested anew."""
    with store.engine.begin() as connection:
        _write_state(connection, source, resumption_token=None)
