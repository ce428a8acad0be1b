""" "For you" on the bundled real corpus (9,877 daily papers, all-MiniLM-L6-v2 vectors):
readers of one topic get that topic, far above the trending list.

The slower ``realdata`` tier (``pytest -m realdata``); bench/recommend.py has the full table.
"""

from __future__ import annotations

import random
import re

import pytest

from paperfeed.config import Settings
from paperfeed.quickstart import load_bundled_corpus
from paperfeed.search import SearchEngine
from paperfeed.search.feeds import trending
from paperfeed.search.recommending import recommend
from paperfeed.store import Store
from paperfeed.store.accounts import insert_user, insert_vote

pytestmark = pytest.mark.realdata

# Title patterns: who counts as relevant is decided by words, not by the embeddings.
TOPICS = {
    "speech": r"speech|audio|music|sound|voice|spoken|\btts\b",
    "robots": r"robot|embodied|manipulation|locomotion|humanoid",
    "3D": r"\b3d\b|gaussian splatting|nerf\b|point cloud|\bmesh",
}


def test_readers_of_a_topic_get_that_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_EMBED_MODEL", "minilm")  # the bundle's vectors, as shipped
    settings = Settings.from_environment()
    store = Store(settings.database_url)
    load_bundled_corpus(store, settings, show_progress=False)
    engine = SearchEngine(store, settings)
    papers = [paper for batch in store.iter_papers() for paper in batch]
    generator = random.Random(11)
    trend = trending(store, limit=500)
    precision: dict[str, float] = {}
    trending_precision: dict[str, float] = {}
    for number, (name, pattern) in enumerate(TOPICS.items()):
        is_topic = re.compile(pattern, re.IGNORECASE)
        history = [
            p
            for p in papers
            if "2026-01-01" <= (p.date or "") < "2026-07-23" and is_topic.search(p.title)
        ]
        user = insert_user(store, f"reader{number}@example.org", name, "x")
        for paper in generator.sample(history, 10):
            insert_vote(store, user.id, paper.key)
        result = recommend(engine, user.id, limit=10)
        assert result.method == "svm" and result.window_last == "2026-08-21"
        assert all(item.paper.date and item.paper.date >= "2026-07-23" for item in result.items)
        precision[name] = sum(bool(is_topic.search(i.paper.title)) for i in result.items) / 10
        top = [p for p in (item.paper for item in trend) if (p.date or "") >= "2026-07-23"][:10]
        trending_precision[name] = sum(bool(is_topic.search(p.title)) for p in top) / 10
    mean = sum(precision.values()) / len(precision)
    assert mean >= 0.5, precision
    assert mean >= sum(trending_precision.values()) / len(TOPICS) + 0.3, (
        precision,
        trending_precision,
    )
