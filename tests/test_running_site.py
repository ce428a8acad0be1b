"""The web tests' site fixture: a copied corpus answers as one loaded afresh would."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from paperfeed.config import Settings
from paperfeed.search.engine import SearchEngine
from paperfeed.store import Store
from running_site import copy_of_site_corpus, load_site_corpus

QUERIES = ["diffusion", "KL divergence", "agent", "vision language action", "attention"]


def _answers(store: Store, settings: Settings) -> list[list[tuple[str, str]]]:
    engine = SearchEngine(store, settings)
    return [
        [(hit.paper.arxiv_id, hit.snippet) for hit in engine.search(query, limit=10).hits]
        for query in QUERIES
    ]


def _papers(store: Store) -> list[tuple[Any, ...]]:
    papers = store.get_papers(list(range(1, 400)))
    return sorted(
        (paper.arxiv_id, paper.title, paper.tldr, tuple(paper.keywords), paper.upvotes)
        for paper in papers.values()
    )


def _in_sqlite_home(settings: Settings, home: Path) -> Settings:
    """``settings`` with their own home, index folder and SQLite file in ``home``."""
    return dataclasses.replace(
        settings,
        home=home,
        index_dir=home / "index",
        database_url=f"sqlite:///{home / 'paperfeed.db'}",
    )


def _papers_of(settings: Settings) -> list[tuple[Any, ...]]:
    store = Store(settings.database_url)
    try:
        return _papers(store)
    finally:
        store.close()


def test_a_copied_corpus_equals_a_fresh_load_and_copies_are_independent(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> None:
    settings = dataclasses.replace(Settings.from_environment(), database_url=database_url)
    postgres = (
        request.getfixturevalue("postgres_server") if database_url.startswith("postgres") else None
    )
    fresh_settings = _in_sqlite_home(settings, tmp_path / "fresh")
    (tmp_path / "fresh-site").mkdir()
    fresh = load_site_corpus(fresh_settings, tmp_path / "fresh-site")
    (tmp_path / "site").mkdir()
    copy = copy_of_site_corpus(settings, tmp_path / "site", postgres)
    try:
        assert len(_papers(copy)) == 182
        assert _papers(copy) == _papers(fresh)
        assert _answers(copy, settings) == _answers(fresh, fresh_settings)
        # a test's writes stay in its copy: the next copy starts from the loaded corpus
        with copy.engine.begin() as connection:
            connection.execute(text("UPDATE papers SET title = 'changed'"))
    finally:
        copy.close()
        fresh.close()
    if postgres is not None:
        return  # one PostgreSQL database per test: the next copy would need another
    (tmp_path / "again").mkdir()
    again = copy_of_site_corpus(
        _in_sqlite_home(settings, tmp_path / "again-home"), tmp_path / "again"
    )
    try:
        assert _papers(again) == _papers_of(fresh_settings)
    finally:
        again.close()
