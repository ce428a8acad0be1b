"""`paperfeed index`: incremental lexical updates and resumable embedding."""

from __future__ import annotations

import json

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


def _folders(settings: Settings) -> set[str]:
    return {path.name for path in (settings.index_dir / "lexical").iterdir() if path.is_dir()}


def test_leftovers_of_a_killed_save_and_replaced_segments_are_removed(
    settings: Settings,
) -> None:
    store = Store(settings.database_url)
    lexical = settings.index_dir / "lexical"
    for day in range(10):  # the ninth update merges the eight segments into one
        store.upsert_papers(_papers(day * 3, 3))
        update_index(store, settings, embed=False, show_progress=False)
        manifest = json.loads((lexical / "manifest.json").read_text())
        assert _folders(settings) == set(manifest["segments"]), day
    # a save killed half-way leaves its staging folder behind
    staging = lexical / ".segment-20260101T000000000000.tmp"
    staging.mkdir()
    (staging / "keys.npy").write_bytes(b"half written")
    stray = lexical / "segment-19990101T000000000000"
    stray.mkdir()
    update_index(store, settings, embed=False, show_progress=False)  # nothing new to index
    assert not staging.exists() and not stray.exists()
    engine = SearchEngine(store, settings)
    assert engine.status()["lexical_documents"] == 30
    assert engine.search("paper number 29").hits[0].paper.arxiv_id == "2501.00029"


def test_a_run_killed_just_after_the_manifest_switch_is_not_redone(settings: Settings) -> None:
    """The state file is written after the manifest; a kill between the two used to make
    the next run index every paper again (a dead copy of each) and, until then, date
    filters missed the new papers."""
    store = Store(settings.database_url)
    store.upsert_papers(_papers(0, 20))
    update_index(store, settings, embed=False, show_progress=False)
    state_file = settings.index_dir / "state.json"
    before = state_file.read_text()
    store.upsert_papers(
        [
            Paper(
                f"2601.{number:05d}",
                title=f"Diffusion model number {number}",
                abstract="A diffusion paper of January.",
                first_listed="2026-01-20",
            )
            for number in range(5)
        ]
    )
    update_index(store, settings, embed=False, show_progress=False)
    state_file.write_text(before)  # as if killed right after the switch
    fresh = SearchEngine(store, settings)  # a process started meanwhile
    found = fresh.search("diffusion since:2026-01", sort="date")
    assert found.total == 5 and not any("unknown" in note for note in found.notes)
    rerun = update_index(store, settings, embed=False, show_progress=False)
    assert rerun.lexical_added == 0
    engine = SearchEngine(store, settings)
    assert engine.status()["lexical_documents"] == 25 and engine.status()["lexical_segments"] == 2
    assert read_state(settings)["last_sequence"] == store.max_change_sequence()


def test_an_index_of_format_1_still_searches_and_is_rebuilt(settings: Settings) -> None:
    """An index written before segments kept term sequences: search reads proximity from
    the stored text meanwhile (same answers), and the next ``paperfeed index`` rebuilds it."""
    store = Store(settings.database_url)
    store.upsert_papers(_papers(0, 30))
    update_index(store, settings, show_progress=False)
    queries = ["paper number 7 about topic0", "subject3 and method1", "topic2 subject4"]
    current = SearchEngine(store, settings)
    expected = [[hit.paper.arxiv_id for hit in current.search(q).hits] for q in queries]
    folder = settings.index_dir / "lexical"
    for path in folder.glob("segment-*/sequences.*"):
        path.unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(manifest | {"format_version": 1}))
    old = SearchEngine(store, settings)
    assert old.lexical is not None and not old.lexical.has_sequences
    assert [[hit.paper.arxiv_id for hit in old.search(q).hits] for q in queries] == expected
    report = update_index(store, settings, show_progress=False)
    assert report.lexical_added == 30 and report.embedded == 0  # re-indexed, not re-embedded
    rebuilt = SearchEngine(store, settings)
    assert rebuilt.lexical is not None and rebuilt.lexical.has_sequences
    assert [[hit.paper.arxiv_id for hit in rebuilt.search(q).hits] for q in queries] == expected
    assert sorted(path.name for path in folder.glob("segment-*/sequences.*")) == [
        "sequences.indptr.npy",
        "sequences.terms.npy",
    ]


def test_an_index_of_format_2_still_searches_and_is_rebuilt(settings: Settings) -> None:
    """An index written before the title-only field (``ti:`` read the title and keywords):
    it still loads and answers, ``ti:`` included, and the next ``paperfeed index`` rebuilds
    it with the field."""
    store = Store(settings.database_url)
    store.upsert_papers(_papers(0, 30))
    update_index(store, settings, show_progress=False)
    queries = ["paper number 7 about topic0", "ti:paper subject3", "topic2 subject4"]
    current = SearchEngine(store, settings)
    expected = [[hit.paper.arxiv_id for hit in current.search(q).hits] for q in queries]
    folder = settings.index_dir / "lexical"
    for path in folder.glob("segment-*/title_only.*"):
        path.unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in ("field_weights", "length_totals"):
        del manifest[name]["title_only"]
    (folder / "manifest.json").write_text(json.dumps(manifest | {"format_version": 2}))
    old = SearchEngine(store, settings)
    assert [[hit.paper.arxiv_id for hit in old.search(q).hits] for q in queries] == expected
    report = update_index(store, settings, show_progress=False)
    assert report.lexical_added == 30 and report.embedded == 0
    rebuilt = SearchEngine(store, settings)
    assert [[hit.paper.arxiv_id for hit in rebuilt.search(q).hits] for q in queries] == expected
    assert len(list(folder.glob("segment-*/title_only.lengths.npy"))) == 1
