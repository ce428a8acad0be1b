"""The store on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from paperfeed.models import Paper
from paperfeed.store import Store, StoreError
from paperfeed.store.embedding_rows import (
    count_fresh_embeddings,
    count_papers_to_embed,
    iter_fresh_embeddings,
    papers_to_embed,
    save_embeddings,
)


def _paper(arxiv_id: str, **fields: object) -> Paper:
    values: dict[str, object] = {
        "title": f"Title of {arxiv_id}",
        "abstract": f"Abstract of {arxiv_id} with\nhard line breaks and $\\alpha$ LaTeX.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "sources": ["arxiv-listing"],
    }
    values.update(fields)
    return Paper(arxiv_id=arxiv_id, **values)  # type: ignore[arg-type]


def test_new_papers_are_added_with_clean_and_raw_text(database_url: str) -> None:
    store = Store(database_url)
    counts = store.upsert_papers([_paper("2401.00001"), _paper("2401.00002")])
    assert (counts.added, counts.updated, counts.unchanged) == (2, 0, 0)
    paper = store.get_paper("2401.00001")
    assert paper is not None
    assert paper.abstract_raw.startswith("Abstract of 2401.00001 with\nhard")
    assert "\n" not in paper.abstract
    assert "α" in paper.abstract and "$" not in paper.abstract
    assert paper.authors == ["Ada Lovelace", "Alan Turing"]
    assert store.count_papers() == 2


def test_reingesting_the_same_records_changes_nothing(database_url: str) -> None:
    store = Store(database_url)
    store.upsert_papers([_paper("2401.00001")])
    sequence = store.max_change_sequence()
    counts = store.upsert_papers([_paper("2401.00001")])
    assert (counts.added, counts.updated, counts.unchanged) == (0, 0, 1)
    assert store.max_change_sequence() == sequence


def test_sources_merge_into_one_paper(database_url: str) -> None:
    store = Store(database_url)
    store.upsert_papers([_paper("2401.00001", categories=["cs.CL"], first_listed="2024-01-03")])
    counts = store.upsert_papers(
        [
            Paper(
                arxiv_id="2401.00001",
                title="Title of 2401.00001",
                upvotes=42,
                organization="ByteDance Seed",
                daily_date="2024-01-04",
                first_listed="2024-01-05",
                sources=["daily-papers"],
            )
        ]
    )
    assert counts.updated == 1
    paper = store.get_paper("2401.00001")
    assert paper is not None
    assert paper.upvotes == 42 and paper.organization == "ByteDance Seed"
    assert paper.categories == ["cs.CL"]  # kept: the daily record says nothing of them
    assert paper.first_listed == "2024-01-03"  # the earliest listing wins
    assert paper.sources == ["arxiv-listing", "daily-papers"]
    assert paper.abstract.startswith("Abstract of 2401.00001")
    assert store.count_by_source() == {"arxiv-listing": 1, "daily-papers": 1}


def test_duplicates_within_one_batch_merge(database_url: str) -> None:
    store = Store(database_url)
    counts = store.upsert_papers([_paper("2401.00001"), _paper("2401.00001", upvotes=3)])
    assert counts.added == 1
    paper = store.get_paper("2401.00001")
    assert paper is not None and paper.upvotes == 3


def test_a_nul_or_a_long_account_name_stores_alike_on_both_databases(database_url: str) -> None:
    """PostgreSQL refuses a NUL in text and a name past the accounts table's 200
    characters; each failed the whole batch there while SQLite stored it. A NUL is
    dropped; an account the table cannot hold is left out, its paper stored."""
    from paperfeed.models import SourceAccount

    store = Store(database_url)
    long_name = "Laboratory " * 20  # 220 characters
    counts = store.upsert_papers(
        [
            _paper(
                "2401.00011",
                title="Tokens\x00 and nulls",
                abstract="An abstract \x00 with a NUL.",
                authors=["Ada\x00 Lovelace"],
                comment="12 pages\x00",
                organization="Lab\x00 One",
            ),
            _paper(
                "2401.00012",
                organization=long_name,
                accounts=[SourceAccount("organization", long_name, {"name": "lab"})],
            ),
        ]
    )
    assert counts.added == 2
    stored = store.get_paper("2401.00011")
    assert stored is not None and "\x00" not in stored.title + stored.abstract
    assert (stored.title, stored.authors, stored.comment) == (
        "Tokens and nulls",
        ["Ada Lovelace"],
        "12 pages",
    )
    assert stored.organization == "Lab One"
    assert store.get_paper("2401.00012") is not None


def test_iter_papers_after_a_sequence_sees_only_changes(database_url: str) -> None:
    store = Store(database_url)
    store.upsert_papers([_paper(f"2401.{number:05d}") for number in range(1, 6)])
    sequence = store.max_change_sequence()
    store.upsert_papers([_paper("2401.00003", upvotes=9), _paper("2401.00009")])
    changed = [paper.arxiv_id for batch in store.iter_papers(sequence, 2) for paper in batch]
    assert changed == ["2401.00003", "2401.00009"]
    assert store.count_papers_after(sequence) == 2


def test_embeddings_go_stale_when_text_changes(database_url: str) -> None:
    store = Store(database_url)
    store.upsert_papers([_paper("2401.00001"), _paper("2401.00002")])
    tasks = papers_to_embed(store, "hashing", 10)
    assert [task.key for task in tasks] == sorted(task.key for task in tasks)
    vectors = np.eye(2, 4, dtype=np.float32)
    save_embeddings(
        store, "hashing", [t.key for t in tasks], [t.content_hash for t in tasks], vectors
    )
    assert count_papers_to_embed(store, "hashing") == 0
    assert count_fresh_embeddings(store, "hashing") == 2
    store.upsert_papers([_paper("2401.00002", abstract="A rewritten abstract.")])
    assert count_papers_to_embed(store, "hashing") == 1
    keys, matrix = next(iter_fresh_embeddings(store, "hashing"))
    assert len(keys) == 1 and matrix.shape == (1, 4)
    np.testing.assert_array_equal(matrix[0], vectors[0])
    # an upvote change does not touch the text, so the vector stays fresh
    store.upsert_papers([_paper("2401.00001", upvotes=5)])
    assert count_fresh_embeddings(store, "hashing") == 1


def test_migrations_are_recorded_once(database_url: str) -> None:
    Store(database_url).close()
    Store(database_url).close()
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        versions = connection.execute(text("select version from schema_migrations")).all()
    from paperfeed.store.migrations import MIGRATIONS

    assert [row[0] for row in versions] == [version for version, _, _ in MIGRATIONS]


def test_migrations_build_the_live_schema(database_url: str) -> None:
    """The frozen migrations, run on a fresh database, give every table, column and
    index of ``store/schema.py``: a migration that forgets one fails here."""
    from sqlalchemy import inspect

    from paperfeed.store import schema

    Store(database_url).close()
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    inspector = inspect(engine)
    for table in schema.metadata.sorted_tables:
        assert inspector.has_table(table.name), table.name
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        assert columns == {column.name for column in table.columns}, table.name
        indexes = {
            index["name"]: list(index["column_names"])
            for index in inspector.get_indexes(table.name)
        }
        for index in table.indexes:
            assert indexes.get(index.name) == [column.name for column in index.columns], (
                f"{table.name}: {index.name}"
            )


def test_bad_database_url_names_it() -> None:
    with pytest.raises(StoreError, match="not-a-url"):
        Store("not-a-url")


def test_unsupported_database_is_named() -> None:
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        Store("mysql://user:secret@host/papers")


def test_merged_paper_does_not_depend_on_ingest_order(database_url: str) -> None:
    """arXiv's text wins over the daily feed's, whichever comes first, so re-ingesting
    either source afterwards changes nothing."""
    listing = _paper("2401.00001", title="Title as arXiv lists it", sources=["arxiv-listing"])
    daily = _paper(
        "2401.00001", title="Title as the feed shows it", upvotes=7, sources=["daily-papers"]
    )
    store = Store(database_url)
    store.upsert_papers([daily])
    store.upsert_papers([listing])
    paper = store.get_paper("2401.00001")
    assert paper is not None
    assert paper.title == "Title as arXiv lists it" and paper.upvotes == 7
    for source in (daily, listing, daily):
        counts = store.upsert_papers([source])
        assert (counts.added, counts.updated, counts.unchanged) == (0, 0, 1)
    other = (
        Store(database_url.replace("paperfeed.db", "other.db"))
        if "sqlite" in database_url
        else None
    )
    if other is not None:
        other.upsert_papers([listing])
        other.upsert_papers([daily])
        reversed_order = other.get_paper("2401.00001")
        assert reversed_order is not None
        assert reversed_order.title == paper.title
        assert reversed_order.content_hash == paper.content_hash


@pytest.mark.postgres
def test_concurrent_writers_get_change_sequences_in_commit_order(postgres_url: str) -> None:
    """Two replicas writing at once: the second writer's number is taken only after the
    first commits, so an index run between the commits never skips the first one's rows."""
    import threading

    from paperfeed.store.database import upsert_papers_in

    store = Store(postgres_url)
    store.upsert_papers([_paper("2401.00001")])
    first_holds_its_number = threading.Event()
    second_done = threading.Event()

    def second_writer() -> None:
        first_holds_its_number.wait(10)
        store.upsert_papers([_paper("2401.00003")])
        second_done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    with store.engine.begin() as connection:
        upsert_papers_in(connection, [_paper("2401.00002")])
        first_holds_its_number.set()
        # the second writer waits for this transaction instead of taking a number now
        assert not second_done.wait(1.0)
    thread.join(10)
    assert second_done.is_set()
    sequences = {
        arxiv_id: store.get_paper(arxiv_id).change_sequence  # type: ignore[union-attr]
        for arxiv_id in ("2401.00001", "2401.00002", "2401.00003")
    }
    assert sequences["2401.00001"] < sequences["2401.00002"] < sequences["2401.00003"]
    store.close()
