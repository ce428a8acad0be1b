"""A ``cat:`` filter that can match nothing says why instead of returning silence."""

from __future__ import annotations

from pathlib import Path

from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.search import SearchEngine
from paperfeed.store import Store
from paperfeed.store.loading import ingest_sources

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _engine(settings: Settings, *sources: tuple[str, str]) -> SearchEngine:
    store = Store(settings.database_url)
    for name, format in sources:
        ingest_sources(store, [FIXTURES / name], format, show_progress=False)
    update_index(store, settings, show_progress=False)
    return SearchEngine(store, settings)


def test_cat_over_papers_without_categories_says_so(settings: Settings) -> None:
    engine = _engine(settings, ("cli_daily_sample.jsonl", "daily-papers-flat"))
    results = engine.search("cat:cs.CL agents")
    assert not results.hits
    assert any("no paper in this paperfeed has categories" in note for note in results.notes)


def test_cat_nobody_is_in_is_named(settings: Settings) -> None:
    engine = _engine(settings, ("cli_arxiv_sample.jsonl", "arxiv-listing"))
    assert engine.search("cat:cs.CV").hits  # the sample has cs.CV papers
    results = engine.search("cat:q-fin.TR")
    assert not results.hits
    assert "no paper in this paperfeed is in q-fin.TR" in results.notes


def test_cat_over_words_only_uncategorised_papers_have_says_so(settings: Settings) -> None:
    """`cat:cs.CV ConvLLaVA` in a paperfeed where the daily-papers feed (no categories)
    holds ConvLLaVA: the answer said "no paper has these words" and nothing else."""
    engine = _engine(
        settings,
        ("cli_daily_sample.jsonl", "daily-papers-flat"),
        ("cli_arxiv_sample.jsonl", "arxiv-listing"),
    )
    assert engine.search("ConvLLaVA").hits[0].paper.arxiv_id == "2405.15738"
    results = engine.search("cat:cs.CV ConvLLaVA")
    assert all(hit.paper.arxiv_id != "2405.15738" for hit in results.hits)
    assert (
        "cat:cs.CV leaves out the 20 of 50 papers that have no categories "
        "(the daily-papers feed gives none; arXiv listings do)" in results.notes
    ), results.notes
    assert not any("leaves out" in note for note in engine.search("cat:cs.CV").notes)
