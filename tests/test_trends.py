"""Topic trends on a real index: months, phrase order, filters, the empty query."""

from __future__ import annotations

import pytest

from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.models import Paper
from paperfeed.search import SearchEngine, SearchError
from paperfeed.search.trends import month_range, monthly_trend
from paperfeed.store import Store


def _paper(number: int, title: str, day: str | None, categories: list[str]) -> Paper:
    return Paper(
        arxiv_id=f"2601.{number:05d}",
        title=title,
        abstract="We study the problem.",
        authors=["A. Author"],
        categories=categories,
        daily_date=day,
        sources=["arxiv-listing"],
    )


@pytest.fixture
def engine(settings: Settings) -> SearchEngine:
    store = Store(settings.database_url)
    store.upsert_papers(
        [
            _paper(1, "Diffusion transformers for images", "2025-11-03", ["cs.CV"]),
            _paper(2, "Transformers meet diffusion", "2026-01-10", ["cs.LG"]),
            _paper(3, "Diffusion transformers, scaled", "2026-01-20", ["cs.CV"]),
            _paper(4, "A diffusion model", "2026-01-21", ["cs.CV"]),
            _paper(5, "Transformers without diffusion", None, ["cs.CV"]),
        ]
    )
    update_index(store, settings, show_progress=False)
    return SearchEngine(store, settings)


def test_months_run_over_the_corpus_with_zeros(engine: SearchEngine) -> None:
    trend = monthly_trend(engine, "diffusion transformers")
    assert [(m.month, m.count, m.corpus) for m in trend.months] == [
        ("2025-11", 1, 1),
        ("2025-12", 0, 0),
        ("2026-01", 2, 3),
    ]
    assert (trend.total, trend.undated) == (3, 1)


def test_the_corpus_months_follow_the_index_after_a_reload(
    engine: SearchEngine, settings: Settings
) -> None:
    monthly_trend(engine, "diffusion")  # the corpus's months, as first indexed
    engine.store.upsert_papers(
        [
            _paper(6, "Diffusion for audio", "2026-03-02", ["cs.SD"]),
            _paper(7, "Speech without diffusion", "2026-03-05", ["cs.SD"]),
        ]
    )
    update_index(engine.store, settings, show_progress=False)
    engine.reload_if_changed()
    trend = monthly_trend(engine, "diffusion")
    assert [(m.month, m.count, m.corpus) for m in trend.months] == [
        ("2025-11", 1, 1),
        ("2025-12", 0, 0),
        ("2026-01", 3, 3),
        ("2026-02", 0, 0),
        ("2026-03", 2, 2),
    ]


def test_phrases_keep_their_word_order_and_filters_apply(engine: SearchEngine) -> None:
    assert monthly_trend(engine, '"diffusion transformers"').total == 2
    assert monthly_trend(engine, "diffusion", categories=["cs.LG"]).total == 1
    assert monthly_trend(engine, "diffusion -transformers").total == 1
    assert monthly_trend(engine, "diffusion", since="2026-01-15").total == 2
    assert monthly_trend(engine, "ti:model").total == 1
    assert monthly_trend(engine, "unheardofword").total == 0


def test_a_trend_needs_something_to_count(engine: SearchEngine) -> None:
    with pytest.raises(SearchError, match="nothing to count for '  '"):
        monthly_trend(engine, "  ")
    assert monthly_trend(engine, "2601.00001 diffusion").notes == (
        "arXiv ids are not counted in a trend",
    )


def test_month_range_crosses_years() -> None:
    assert month_range("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert month_range("2026-03", "2026-03") == ["2026-03"]
