"""Dense search inside PostgreSQL (pgvector), against the in-process exact search."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text

from paperfeed.cli import main
from paperfeed.config import Settings, SettingsError
from paperfeed.index import pgvector_index
from paperfeed.index.builder import dense_folder, update_index
from paperfeed.index.pgvector_index import PgVectorError, PgVectorSearch, index_name, prepare
from paperfeed.index.vector_search import DenseFilter
from paperfeed.search import SearchEngine
from paperfeed.search.query import parse_query
from paperfeed.store import Store, schema
from paperfeed.store.loading import ingest_sources
from running_site import FIXTURES, LATEST_DAY, free_port, load_site_corpus

pytestmark = pytest.mark.postgres
QUERIES = [
    "agents red teaming",
    "vision language action",
    "reward model",
    "diffusion models for image generation cat:cs.CV",
    "language models since:2026-08-20",
    "agents until:2026-08-19",
    "agents -environment",
    "au:wang reasoning",
    '"language model" evaluation',
]


@pytest.fixture
def two_backends(
    postgres_url: str, paperfeed_home: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[SearchEngine, SearchEngine, Settings]:
    """The site corpus on PostgreSQL, indexed once in-process and once with pgvector."""
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", postgres_url)
    in_process = Settings.from_environment()
    (paperfeed_home.parent / "corpus").mkdir()
    load_site_corpus(in_process, paperfeed_home.parent / "corpus").close()
    monkeypatch.setenv("PAPERFEED_VECTOR_BACKEND", "pgvector")
    monkeypatch.setenv("PAPERFEED_INDEX_DIR", str(paperfeed_home / "pgvector-index"))
    in_database = Settings.from_environment()
    store = Store(postgres_url)
    report = update_index(store, in_database, show_progress=False)
    assert report.embedded == 0 and report.vectors == report.papers  # vectors reused
    assert not (dense_folder(in_database) / "manifest.json").exists()  # no files of its own
    return SearchEngine(store, in_process), SearchEngine(store, in_database), in_database


@pytest.mark.parametrize("keys_in_sql", [20_000, 0], ids=["key-list", "over-fetch"])
def test_pgvector_finds_what_exact_search_finds_under_every_filter(
    two_backends: tuple[SearchEngine, SearchEngine, Settings],
    keys_in_sql: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Word restrictions reach SQL as a key list when short, else filter an over-fetch."""
    monkeypatch.setattr(pgvector_index, "KEYS_IN_SQL", keys_in_sql)
    exact, pgvector = two_backends[:2]
    assert exact.status()["vector_search"] == "exact"
    assert pgvector.status()["vector_search"] == "pgvector"
    assert len(pgvector.dense or []) == len(exact.dense or [])
    for text_query in QUERIES:
        query = parse_query(text_query)
        dense = [engine.rank(query, use_lexical=False) for engine in (exact, pgvector)]
        scores = [[round(ranking.scores[key], 5) for key in ranking.keys] for ranking in dense]
        assert scores[0] == scores[1] and scores[0], text_query
        # the same papers in the same order, up to papers with equal scores
        untied = [
            [key for key in ranking.keys if scores[0].count(round(ranking.scores[key], 5)) == 1]
            for ranking in dense
        ]
        assert untied[0] == untied[1], text_query
        hybrid = [engine.search(text_query, limit=10) for engine in (exact, pgvector)]
        assert [hit.paper.arxiv_id for hit in hybrid[0].hits] == [
            hit.paper.arxiv_id for hit in hybrid[1].hits
        ], text_query
        assert [round(hit.score, 5) for hit in hybrid[0].hits] == [
            round(hit.score, 5) for hit in hybrid[1].hits
        ], text_query


def test_filters_run_in_sql_and_match_the_papers(
    two_backends: tuple[SearchEngine, SearchEngine, Settings],
) -> None:
    exact, pgvector, _ = two_backends
    assert isinstance(pgvector.dense, PgVectorSearch)
    vector = exact.dense.vector_of(1) if exact.dense else None
    assert vector is not None
    stored = pgvector.dense.vector_of(1)
    assert stored is not None and np.allclose(stored, vector)
    keys, scores = pgvector.dense.search(
        vector, 50, DenseFilter(categories=("cs.ai", "eess.iv"), since="2025-03-01")
    )
    papers = pgvector.store.get_papers(pgvector.dense.search(vector, 1000)[0].tolist())
    expected = {
        key
        for key, paper in papers.items()
        if {"cs.AI", "eess.IV"} & set(paper.categories) and (paper.date or "") >= "2025-03-01"
    }
    assert len(expected) >= 10 and set(keys.tolist()) == expected
    assert list(scores) == sorted(scores, reverse=True)
    later, _ = pgvector.dense.search(vector, 50, DenseFilter(since="2026-08-21"))
    assert {papers[key].date for key in later.tolist()} == {LATEST_DAY}
    earlier, _ = pgvector.dense.search(vector, 500, DenseFilter(until="2025-12-31"))
    assert {papers[key].date for key in earlier.tolist()} == {"2025-03-18"}
    everything, _ = pgvector.dense.search(vector, 1000)
    assert len(everything) == len(pgvector.dense)


def test_new_rows_are_searchable_through_the_hnsw_index(
    two_backends: tuple[SearchEngine, SearchEngine, Settings], tmp_path: Path
) -> None:
    _, pgvector, settings = two_backends
    store = pgvector.store
    indexes = inspect(store.engine).get_indexes("paper_vectors")
    assert index_name("hashing", 256) in {index["name"] for index in indexes}
    record = {
        "id": "2608.99902",
        "title": "Pgvector kept current as rows arrive",
        "abstract": "Narwhal embeddings stream into an approximate nearest neighbour graph.",
        "authors": ["H. Nsw"],
        "daily_date": LATEST_DAY,
    }
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps(record) + "\n")
    ingest_sources(store, [source], "daily-papers-flat", show_progress=False)
    report = update_index(store, settings, show_progress=False)
    assert report.embedded == 1 and report.vectors == report.papers
    assert pgvector.reload_if_changed()
    hits = pgvector.rank(parse_query("narwhal nearest neighbour graph"), use_lexical=False)
    assert hits.keys[0] == store.get_paper("2608.99902").key  # type: ignore[union-attr]
    with store.engine.connect() as connection:
        plan = "\n".join(
            connection.scalars(
                text(
                    "EXPLAIN SELECT paper_key FROM paper_vectors WHERE model = 'hashing' "
                    "ORDER BY embedding::vector(256) <#> CAST(:q AS vector(256)) LIMIT 5"
                ),
                {"q": "[" + ",".join(["0.0625"] * 256) + "]"},
            )
        )
    assert index_name("hashing", 256) in plan  # the partial HNSW index answers it


@pytest.mark.filterwarnings("ignore:Did not recognize type 'vector'")
def test_the_pgvector_table_matches_the_live_schema(postgres_url: str) -> None:
    Store(postgres_url).close()
    from sqlalchemy import create_engine

    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    columns = {column["name"] for column in inspect(engine).get_columns("paper_vectors")}
    engine.dispose()
    assert columns == {column.name for column in schema.paper_vectors.columns}


def test_pgvector_needs_postgresql(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_VECTOR_BACKEND", "pgvector")
    with pytest.raises(SettingsError, match="PAPERFEED_VECTOR_BACKEND='pgvector' needs a Post"):
        Settings.from_environment()
    monkeypatch.setenv("PAPERFEED_VECTOR_BACKEND", "milvus")
    with pytest.raises(SettingsError, match="'milvus' is not one of in-process, pgvector"):
        Settings.from_environment()
    store = Store(settings.database_url)
    ingest_sources(store, [FIXTURES / "cli_arxiv_sample.jsonl"], "arxiv-listing")
    with pytest.raises(PgVectorError, match="needs PostgreSQL, not 'sqlite'"):
        prepare(store, "hashing", 256)
    store.close()


def test_the_engine_configured_for_pgvector_without_vectors_says_so(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", postgres_url)
    monkeypatch.setenv("PAPERFEED_VECTOR_BACKEND", "pgvector")
    settings = Settings.from_environment()
    store = Store(postgres_url)
    ingest_sources(store, [FIXTURES / "cli_arxiv_sample.jsonl"], "arxiv-listing")
    update_index(store, dataclasses.replace(settings), embed=False, show_progress=False)
    results = SearchEngine(store, settings).search("language")
    assert any("no paper is embedded yet" in note for note in results.notes)
    store.close()


def test_for_you_its_first_picks_and_the_day_s_topics_are_the_same_with_pgvector(
    two_backends: tuple[SearchEngine, SearchEngine, Settings],
) -> None:
    """They read a window's vectors; with pgvector those are in PostgreSQL only, and For
    you said so and stopped, the picks were empty and the topics silently gone."""
    from paperfeed import accounts, votes
    from paperfeed.search.cold_start import diverse_recent
    from paperfeed.search.feeds import daily_feed
    from paperfeed.search.recommending import recommend
    from paperfeed.search.topics import day_topics
    from paperfeed.store.feedback import mark_not_for_me

    exact, pgvector, _ = two_backends
    assert pgvector.vectors is None and exact.vectors is not None
    user = accounts.sign_up(pgvector.store, "reader@example.org", "correct horse")
    for arxiv_id in ("2608.19880", "2608.18580", "2608.00677"):
        votes.upvote(pgvector.store, user, arxiv_id)
    marked = pgvector.store.get_paper("2608.20335")
    assert marked is not None
    mark_not_for_me(pgvector.store, user.id, marked.key)
    mine, theirs = recommend(pgvector, user.id), recommend(exact, user.id)
    assert mine.items and mine.notes == theirs.notes
    assert [item.paper.arxiv_id for item in mine.items] == [
        item.paper.arxiv_id for item in theirs.items
    ]
    assert "2608.20335" not in {item.paper.arxiv_id for item in mine.items}
    picks = diverse_recent(pgvector)
    assert picks and [paper.key for paper in picks] == [
        paper.key for paper in diverse_recent(exact)
    ]
    papers = [item.paper for item in daily_feed(pgvector.store).items]
    topics = day_topics(pgvector.dense, papers)
    assert topics and topics == day_topics(exact.dense, papers)


def test_a_role_that_cannot_create_the_extension_is_told_what_to_do(
    postgres_server: Any, paperfeed_home: Path
) -> None:
    """A database owner that is no superuser (pgvector is not a trusted extension):
    `paperfeed index` said what to do, but `sync` and `quickstart` ended in a traceback,
    and the sync left its index run "running" for good."""
    role = f"pf_plain_{os.getpid()}"
    postgres_server.psql(f"CREATE ROLE {role} LOGIN; CREATE DATABASE {role} OWNER {role};")
    url = str(postgres_server.get_uri(role)).replace("//postgres:", f"//{role}:", 1)
    environment = {
        "PAPERFEED_HOME": str(paperfeed_home),
        "PAPERFEED_DATABASE_URL": url,
        "PAPERFEED_VECTOR_BACKEND": "pgvector",
        "PAPERFEED_ARXIV_OAI_URL": "",
        "PAPERFEED_ARXIV_RSS_URL": "",
        # a source that fails at once (nothing listens there); the index runs after it
        "PAPERFEED_DAILY_PAPERS_URL": f"http://127.0.0.1:{free_port()}",
        "PAPERFEED_SYNC_RETRIES": "0",
        "PAPERFEED_ARXIV_API_URL": "",
    }
    advice = "this role cannot create it; as a superuser run CREATE EXTENSION vector"
    runner = CliRunner()
    ingested = runner.invoke(
        main, ["ingest", str(FIXTURES / "cli_arxiv_sample.jsonl"), "--quiet"], env=environment
    )
    assert ingested.exit_code == 0, ingested.output
    synced = runner.invoke(main, ["sync", "--quiet"], env=environment)
    assert synced.exit_code == 1 and isinstance(synced.exception, SystemExit), synced.output
    assert "index: FAILED: PAPERFEED_VECTOR_BACKEND=pgvector" in synced.output
    assert advice in synced.output
    store = Store(url)
    with store.engine.connect() as connection:
        runs = schema.sync_runs.c
        states = dict(connection.execute(select(runs.source, runs.status)).all())
    store.close()
    assert states["index"] == "failed"  # recorded, not "running" for ever
    store = Store(url)
    before = store.count_papers()
    store.close()
    started = runner.invoke(main, ["quickstart", "--quiet"], env=environment)
    assert started.exit_code == 1 and isinstance(started.exception, SystemExit), started.output
    # said before the bundle's ~10k papers were stored (a minute), not after
    assert advice in started.output and "(nothing was loaded)" in started.output
    store = Store(url)
    assert store.count_papers() == before
    store.close()
