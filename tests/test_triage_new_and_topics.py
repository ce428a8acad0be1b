"""``/new`` ranked for a signed-in reader (with the "because" line) and by upvotes
otherwise, keeping its category filter; and the day's topics on ``/`` and ``/new``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from account_helpers import sign_up, upvote
from paperfeed.models import StoredPaper
from paperfeed.search.topics import day_topics
from running_site import Site, csrf_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DAY = "2025-03-18"  # the 30 papers of cli_arxiv_sample.jsonl


def _ids(html: str) -> list[str]:
    return re.findall(r'<article class="card" data-id="([^"]+)"', html)


def test_new_is_ranked_for_a_signed_in_reader_and_by_upvotes_otherwise(site: Site) -> None:
    records = [json.loads(line) for line in (FIXTURES / "cli_arxiv_sample.jsonl").open()]
    with site.client() as client:
        anonymous = client.get("/new", params={"date": DAY}).text
        sign_up(client, "ada@example.org", "correct horse")
        before = client.get("/new", params={"date": DAY}).text
        liked = [records[3]["id"], records[17]["id"]]
        for arxiv_id in liked:
            upvote(client, arxiv_id)
        ranked = client.get("/new", params={"date": DAY}).text
        plain = client.get("/new", params={"date": DAY, "order": "upvotes"}).text
        category = records[0]["categories"][0]
        filtered = client.get("/new", params={"date": DAY, "cat": category}).text
        bad = client.get("/new", params={"date": DAY, "order": "random"})
    assert "Ranked for you" not in anonymous and 'id="new-order"' not in anonymous
    assert "start For you" in before and _ids(before) == _ids(anonymous)
    assert "Ranked for you" in ranked
    order = _ids(ranked)
    assert sorted(order) == sorted(_ids(anonymous)) and order != _ids(anonymous)
    assert ranked.count('<p class="because">Because you upvoted') == len(order) - len(liked)
    # most upvoted first: the two upvoted papers, then arXiv's order as before
    assert set(_ids(plain)[:2]) == set(liked)
    assert _ids(plain)[2:] == [i for i in _ids(anonymous) if i not in liked]
    shown = _ids(filtered)
    expected = {r["id"] for r in records if category in (r.get("categories") or [])}
    assert set(shown) == expected and "Ranked for you" in filtered
    assert bad.status_code == 400 and "random" in bad.text


def test_the_days_topics_group_the_daily_list_and_new(site: Site) -> None:
    with site.client() as client:
        grouped = client.get("/", params={"group": "topics"}).text
        flat = client.get("/").text
        new = client.get("/new", params={"date": DAY, "group": "topics"}).text
        api = client.get("/api/topics", params={"date": "2026-08-21"}).json()
    sections = re.findall(r'<section class="topic-group" id="topic-(\d+)">', grouped)
    assert 2 <= len(sections) <= 8
    labels = re.findall(r'<h2><a href="/search\?q=([^"]+)">', grouped)
    assert len(labels) == len(sections)
    assert sorted(_ids(grouped)) == sorted(_ids(flat))
    assert 'href="/?group=topics' in flat or "group=topics" in flat
    assert re.findall(r'<section class="topic-group"', new)
    assert api["topics"] and all(topic["label"] and topic["ids"] for topic in api["topics"])
    assert sum(len(topic["ids"]) for topic in api["topics"]) == len(_ids(flat))
    _ = csrf_of  # the helpers module is shared


class _Vectors:
    """The two calls day_topics makes of the engine's dense search."""

    def __init__(self, rows: dict[int, list[float]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def vectors_of(self, keys: np.ndarray) -> np.ndarray:
        return np.asarray([self.rows[int(key)] for key in keys], np.float32)


def _paper(key: int, title: str, keywords: list[str]) -> StoredPaper:
    return StoredPaper(
        key, f"2608.{key:05d}", title, "x", title, "x", ["A"], [], None, None, None,
        "2026-08-21", 1, 0, None, None, None, None, None, None, None, [], "h", key,
        keywords=keywords,
    )  # fmt: skip


def test_a_topic_whose_papers_share_no_word_is_labelled_by_words_not_a_title() -> None:
    """A cluster with no word in common was labelled with its first paper's whole title,
    linked to a search for that title (one paper); its own distinctive words label it."""
    papers = [
        _paper(1, "Robot grasping with tactile sensing", ["robot grasping"]),
        _paper(2, "Robot grasping of deformable cloth", ["deformable cloth"]),
        _paper(3, "Learning robot grasping from video", ["grasping video"]),
        _paper(4, "Protein folding kinetics", ["folding kinetics"]),
        _paper(5, "Galaxy cluster lensing maps", ["lensing maps"]),
        _paper(6, "Quantum error correction codes", ["surface codes"]),
    ]
    near = {1: [1.0, 0.0, 0.0], 2: [0.99, 0.1, 0.0], 3: [0.98, 0.0, 0.1]}
    far = {4: [0.0, 1.0, 0.05], 5: [0.0, 0.95, 0.2], 6: [0.05, 0.9, 0.3]}
    vectors = _Vectors(
        {key: list(np.asarray(row) / np.linalg.norm(row)) for key, row in {**near, **far}.items()}
    )
    topics = day_topics(vectors, papers)  # type: ignore[arg-type]
    assert sorted(topic.keys for topic in topics) == [(1, 2, 3), (4, 5, 6)]
    grasping = next(topic for topic in topics if topic.keys == (1, 2, 3))
    assert set(grasping.query.split()) == {"robot", "grasping"}
    assert grasping.label.startswith(grasping.query.replace(" ", " · "))
    unrelated = next(topic for topic in topics if topic.keys == (4, 5, 6))
    titles = {paper.title for paper in papers}
    assert unrelated.label not in titles and unrelated.query not in titles
    assert len(unrelated.label.split(" · ")) == 3 and len(unrelated.query.split()) == 2
