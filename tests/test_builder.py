"""`paperfeed index`: incremental lexical updates and resumable embedding."""

from __future__ import annotations

from paperfeed.config import Settings
from paperfeed.index.builder import read_state, update_index
from paperfeed.models import Paper
from paperfeed.search import SearchEngine
from paperfeed.store import Store
from paperfeed.store.embedding_rows import count_fresh_embeddings


def _papers(first: int, count: int) -> list[Paper]:
    return [
        Paper(
            f"2501.{number:05d}",
            title=f"Paper number {number} about topic{number % 7}",
            abstract=f"An abstract on subject{number % 5} and method{number % 3}.",
            first_listed="2025-01-15",
        )
        for number in range(first, first + count)
    ]


def test_update_indexes_only_new_and_changed_papers(settings: Settings) -> None:
    store = Store(settings.database_url)
    store.upsert_papers(_papers(0, 30))
    first = update_index(store, settings, show_progress=False)
    assert (first.lexical_added, first.embedded, first.vectors) == (30, 30, 30)
    again = update_index(store, settings, show_progress=False)
    assert (again.lexical_added, again.embedded) == (0, 0)
    assert not again.changed
    store.upsert_papers(_papers(30, 5))
    store.upsert_papers([Paper("2501.00000", abstract="A rewritten abstract on quasars.")])
    store.upsert_papers([Paper("2501.00001", upvotes=12)])  # metadata only
    update = update_index(store, settings, show_progress=False)
    assert update.lexical_added == 7
    assert update.embedded == 6  # the 5 new papers and the rewritten text; not the upvote
    engine = SearchEngine(store, settings)
    assert engine.status()["lexical_documents"] == 35
    assert engine.status()["lexical_segments"] == 2
    hits = engine.search("quasars").hits
    assert hits[0].paper.arxiv_id == "2501.00000"
    assert engine.search("topic1", sort="upvotes").hits[0].paper.arxiv_id == "2501.00001"


def test_embedding_is_resumable_and_lexical_search_works_before_it(settings: Settings) -> None:
    store = Store(settings.database_url)
    store.upsert_papers(_papers(0, 40))
    partial = update_index(store, settings, embed_limit=15, show_progress=False)
    assert partial.embedded == 15 and partial.vectors == 15
    engine = SearchEngine(store, settings)
    assert engine.status()["vectors"] == 15
    assert engine.search("subject3").hits  # every paper is searchable lexically already
    rest = update_index(store, settings, show_progress=False)
    assert rest.embedded == 25
    assert count_fresh_embeddings(store, "hashing") == 40
    assert read_state(settings)["last_sequence"] == store.max_change_sequence()


def test_no_embed_builds_the_lexical_side_only(settings: Settings) -> None:
    store = Store(settings.database_url)
    store.upsert_papers(_papers(0, 10))
    report = update_index(store, settings, embed=False, show_progress=False)
    assert (report.lexical_added, report.embedded, report.vectors) == (10, 0, 0)
    results = SearchEngine(store, settings).search("topic3")
    assert results.hits
    assert any("semantic search is off" in note for note in results.notes)


def test_many_daily_updates_are_merged_into_few_segments(settings: Settings) -> None:
    store = Store(settings.database_url)
    for day in range(12):
        store.upsert_papers(_papers(day * 3, 3))
        update_index(store, settings, embed=False, show_progress=False)
    engine = SearchEngine(store, settings)
    assert engine.status()["lexical_segments"] <= 8
    assert engine.status()["lexical_documents"] == 36
    assert engine.search("paper number 35").hits[0].paper.arxiv_id == "2501.00035"
