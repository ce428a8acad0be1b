"""The store: every database read and write of papers goes through ``Store``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    bindparam,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError

from paperfeed.models import Paper, StoredPaper
from paperfeed.store import schema
from paperfeed.store.merging import merge_into_row, row_from_paper
from paperfeed.store.migrations import migrate
from paperfeed.store.sequencing import next_change_sequence
from paperfeed.store.source_accounts import record_accounts_in

# Written by the index's annotation stage (``store.annotations``), never by an ingest: a
# sync rewriting a row must not put back the keywords it read before they were made.
ANNOTATION_COLUMNS = ("keywords", "tldr", "annotated_hash")
_COMPARED_COLUMNS = [
    column.name
    for column in schema.papers.columns
    if column.name not in ("key", "change_sequence", "updated_at", *ANNOTATION_COLUMNS)
]


# Row ids are ``Integer`` columns: 32-bit on PostgreSQL (64-bit on SQLite). A larger
# number makes the driver raise (NumericValueOutOfRange, OverflowError past 2^63)
# instead of finding nothing, so the smaller range is every database's.
MAX_ROW_ID = 2**31 - 1
# Statements a search runs every time are built once: building a select and its cache key
# on each call was ~0.14 ms of a ~0.23 ms query (docs/benchmarks.md); an expanding
# ``keys`` takes the list given when it runs.
PAPERS_WITH_KEYS = select(schema.papers).where(
    schema.papers.c.key.in_(bindparam("keys", expanding=True))
)


def is_row_id(value: int) -> bool:
    """Whether ``value`` can be a row id (1 .. ``MAX_ROW_ID``); any other matches no row."""
    return 1 <= value <= MAX_ROW_ID


class StoreError(RuntimeError):
    """The database cannot be opened or used; the message names the URL."""


@dataclass
class UpsertCounts:
    """What one upsert did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: UpsertCounts) -> None:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def create_database_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and their folder created."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"PAPERFEED_DATABASE_URL {url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:  # a file where the folder must be, no permission
                reason = (
                    f"{error.filename!r} is a file, not a folder"
                    if isinstance(error, FileExistsError)
                    else f"{error.strerror} ({error.filename!r})"
                )
                raise StoreError(f"cannot open database {_redact(url)}: {reason}") from None
        engine = create_engine(parsed, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets searches read while an ingest writes; NORMAL is still
            # crash-safe for committed transactions in WAL mode.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if parsed.get_backend_name() != "postgresql":
        raise StoreError(
            f"unsupported database {parsed.get_backend_name()!r} in {_redact(url)!r} "
            "(expected sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DATABASE)"
        )
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except ModuleNotFoundError as error:
        raise StoreError(
            f"cannot open {_redact(url)}: missing driver {error.name!r} "
            "(install it with: pip install 'paperfeed[postgres]')"
        ) from None


# json.loads checks its keyword arguments and makes a decoder call by call; a search page
# decodes four lists for each of its 20 papers, most of them empty.
_decode_json = json.JSONDecoder().decode


def _json_list(text: str) -> Any:
    return [] if text == "[]" else _decode_json(text)


_Value = TypeVar("_Value")

# The most values one ``IN (...)`` binds: SQLite builds before 3.32 refuse more than 999
# variables in a statement.
IN_BATCH = 900


def key_batches(keys: Iterable[int]) -> Iterator[list[int]]:
    """``keys``, distinct and in ascending order, in lists of at most ``IN_BATCH``: one
    ``IN (...)`` query each."""
    return value_batches(sorted({int(key) for key in keys}))


def value_batches(values: Iterable[_Value]) -> Iterator[list[_Value]]:
    """``values``, distinct and in the order given, in lists of at most ``IN_BATCH``."""
    distinct = list(dict.fromkeys(values))
    for start in range(0, len(distinct), IN_BATCH):
        yield distinct[start : start + IN_BATCH]


def stored_paper_from_row(row: Row[Any]) -> StoredPaper:
    values = row._mapping
    return StoredPaper(
        key=values["key"],
        arxiv_id=values["arxiv_id"],
        title=values["title"],
        abstract=values["abstract"],
        title_raw=values["title_raw"],
        abstract_raw=values["abstract_raw"],
        authors=_json_list(values["authors"]),
        categories=_json_list(values["categories"]),
        comment=values["comment"],
        published=values["published"],
        first_listed=values["first_listed"],
        daily_date=values["daily_date"],
        upvotes=values["upvotes"],
        num_comments=values["num_comments"],
        organization=values["organization"],
        submitted_by=values["submitted_by"],
        github_repo=values["github_repo"],
        github_stars=values["github_stars"],
        project_page=values["project_page"],
        doi=values["doi"],
        journal_ref=values["journal_ref"],
        sources=_json_list(values["sources"]),
        content_hash=values["content_hash"],
        change_sequence=values["change_sequence"],
        license=values["license"],
        updated=values["updated"],
        withdrawn_on=values["withdrawn_on"],
        ai_summary=values["ai_summary"],
        ai_keywords=_json_list(values["ai_keywords"]) if values["ai_keywords"] else None,
        keywords=_json_list(values["keywords"]) if values["keywords"] else [],
        tldr=values["tldr"],
    )


def resolve_doi_aliases(connection: Connection, papers: list[Paper]) -> list[Paper]:
    """Give each paper the id of the stored row that is the same work.

    A bioRxiv/medRxiv paper (id: its DOI) whose DOI, or published DOI, an arXiv record
    carries in its ``doi`` field is merged into that arXiv paper, keeping the arXiv
    paper's ``doi``. An arXiv record carrying the DOI of a paper stored under that DOI
    takes that row over: the row is renamed to the arXiv id (its key, and so its votes,
    comments and collections, stay), and a link by DOI still finds it (``get_paper``).
    """
    table = schema.papers
    by_doi = {paper.arxiv_id for paper in papers if paper.arxiv_id.startswith("10.")}
    by_doi |= {paper.doi.lower() for paper in papers if paper.doi and paper.arxiv_id[:3] == "10."}
    carried = {
        paper.doi.lower(): paper.arxiv_id
        for paper in papers
        if paper.doi and not paper.arxiv_id.startswith("10.")
    }
    if not by_doi and not carried:
        return papers
    owners: dict[str, tuple[str, str | None]] = {}
    if by_doi:
        for arxiv_id, doi in connection.execute(
            select(table.c.arxiv_id, table.c.doi).where(
                func.lower(table.c.doi).in_(sorted(by_doi)), ~table.c.arxiv_id.startswith("10.")
            )
        ):
            owners[doi.lower()] = (arxiv_id, doi)
    if carried:
        taken = set(
            connection.scalars(
                select(table.c.arxiv_id).where(table.c.arxiv_id.in_(sorted(carried.values())))
            )
        )
        for doi_id in connection.scalars(
            select(table.c.arxiv_id).where(table.c.arxiv_id.in_(sorted(carried)))
        ):
            if carried[doi_id] not in taken:
                connection.execute(
                    table.update()
                    .where(table.c.arxiv_id == doi_id)
                    .values(arxiv_id=carried[doi_id])
                )
                taken.add(carried[doi_id])
    resolved = []
    for paper in papers:
        if paper.arxiv_id.startswith("10."):
            owner = owners.get(paper.arxiv_id) or (
                owners.get(paper.doi.lower()) if paper.doi else None
            )
            if owner is not None:
                paper = replace(paper, arxiv_id=owner[0], doi=owner[1])
        resolved.append(paper)
    return resolved


class Store:
    """Papers and their embeddings in one SQL database (SQLite or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_database_engine(url)
        try:
            migrate(self.engine)
        except DatabaseError as error:  # locked, unreadable, not SQLite, truncated
            raise StoreError(f"cannot open database {_redact(url)}: {error.orig}") from None

    def close(self) -> None:
        self.engine.dispose()

    # -- writing ---------------------------------------------------------------

    def upsert_papers(self, papers: Iterable[Paper]) -> UpsertCounts:
        """Insert new papers and merge the rest into their stored rows, in one transaction.

        Records of the same id within the batch are merged in order. A paper whose
        merged row equals the stored one is left untouched (so re-ingesting is a no-op).
        """
        with self.engine.begin() as connection:
            return upsert_papers_in(connection, papers)

    # -- reading ---------------------------------------------------------------

    def count_papers(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(schema.papers)) or 0)

    def get_paper(self, arxiv_id: str) -> StoredPaper | None:
        """The paper with this (normalised) id, or None. A DOI also finds the arXiv
        paper that carries it (the same work seen on two servers is one paper)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(schema.papers).where(schema.papers.c.arxiv_id == arxiv_id)
            ).first()
            if row is None and arxiv_id.startswith("10."):
                row = connection.execute(
                    select(schema.papers)
                    .where(func.lower(schema.papers.c.doi) == arxiv_id)
                    .order_by(schema.papers.c.key)
                ).first()
        return stored_paper_from_row(row) if row else None

    def get_papers(self, keys: Sequence[int]) -> dict[int, StoredPaper]:
        """Papers by store key; missing keys are simply absent from the result."""
        found: dict[int, StoredPaper] = {}
        with self.engine.connect() as connection:
            for batch in key_batches(keys):
                # all rows at once: iterating the result fetched them one call at a time
                # (a page's 20 papers: 0.43 instead of 0.45-0.53 ms)
                for row in connection.execute(PAPERS_WITH_KEYS, {"keys": batch}).all():
                    paper = stored_paper_from_row(row)
                    found[paper.key] = paper
        return found

    def iter_papers(
        self, after_sequence: int = 0, batch_size: int = 2000
    ) -> Iterator[list[StoredPaper]]:
        """Papers changed after ``after_sequence``, in key order, a batch at a time."""
        last_key = 0
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(schema.papers)
                    .where(
                        schema.papers.c.change_sequence > after_sequence,
                        schema.papers.c.key > last_key,
                    )
                    .order_by(schema.papers.c.key)
                    .limit(batch_size)
                ).all()
            if not rows:
                return
            batch = [stored_paper_from_row(row) for row in rows]
            last_key = batch[-1].key
            yield batch

    def count_papers_after(self, after_sequence: int) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.scalar(
                    select(func.count())
                    .select_from(schema.papers)
                    .where(schema.papers.c.change_sequence > after_sequence)
                )
                or 0
            )

    def max_change_sequence(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.max(schema.papers.c.change_sequence))) or 0)

    def count_by_source(self) -> dict[str, int]:
        """How many papers each source contributed to (a paper counts for each)."""
        counts: dict[str, int] = {}
        with self.engine.connect() as connection:
            for (sources,) in connection.execute(select(schema.papers.c.sources)):
                for source in json.loads(sources):
                    counts[source] = counts.get(source, 0) + 1
        return dict(sorted(counts.items()))


def upsert_papers_in(connection: Connection, papers: Iterable[Paper]) -> UpsertCounts:
    """``Store.upsert_papers`` inside the caller's transaction (a harvest page commits its
    papers and its resumption point together). The same work under a DOI and an arXiv id
    is one paper (``resolve_doi_aliases``)."""
    incoming: dict[str, list[Paper]] = {}
    for paper in resolve_doi_aliases(connection, list(papers)):
        incoming.setdefault(paper.arxiv_id, []).append(paper)
    counts = UpsertCounts()
    if not incoming:
        return counts
    now = datetime.now(UTC).isoformat()
    existing = {
        row._mapping["arxiv_id"]: dict(row._mapping)
        for row in connection.execute(
            select(schema.papers).where(schema.papers.c.arxiv_id.in_(list(incoming)))
        )
    }
    sequence = next_change_sequence(connection)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for arxiv_id, records in incoming.items():
        old = existing.get(arxiv_id)
        row = dict(old) if old else row_from_paper(records[0])
        for record in records[1:] if old is None else records:
            row = merge_into_row(row, record)
        if old is None:
            inserts.append(row | {"change_sequence": sequence, "updated_at": now})
        elif any(row[name] != old[name] for name in _COMPARED_COLUMNS):
            updates.append(row | {"change_sequence": sequence, "updated_at": now})
        else:
            counts.unchanged += 1
    if inserts:
        connection.execute(schema.papers.insert(), inserts)
        counts.added = len(inserts)
    if updates:
        columns: dict[str, Any] = {name: bindparam(f"new_{name}") for name in _COMPARED_COLUMNS}
        columns["change_sequence"] = bindparam("new_change_sequence")
        columns["updated_at"] = bindparam("new_updated_at")
        statement = (
            update(schema.papers).where(schema.papers.c.key == bindparam("old_key")).values(columns)
        )
        connection.execute(
            statement,
            [
                {f"new_{name}": value for name, value in row.items() if name != "key"}
                | {"old_key": row["key"]}
                for row in updates
            ],
        )
        counts.updated = len(updates)
    record_accounts_in(connection, (paper for records in incoming.values() for paper in records))
    return counts
