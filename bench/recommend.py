"""Offline evaluation of "For you": precision@10 of the SVM, the centroid and trending.

Corpus: the bundled quick-start corpus (9,877 daily papers with their all-MiniLM-L6-v2
vectors, no embedding needed), loaded once into bench/out/recommend_home.

Simulated users, each judged against a rule that does not look at the embeddings:
- **category**: an arXiv category (cs.RO robotics, cs.SD/eess.AS audio, cs.IR, cs.GR, ...),
  cross-lists included, read from ../shared/data/arxiv for the papers also listed there.
  Only papers with known categories are candidates, so every candidate is judged.
- **keyword**: a title pattern (speech/audio, robots, medicine, 3D, safety, molecules, ...).
- **author**: one author with 6+ papers in the corpus, 1+ in the window (60 a window).

For each 30-day window (the product's, ``WINDOW_DAYS``) ending at a month's end, a user's
positives are ``k`` random papers of the topic from the 180 days before the window (for an
author: any earlier papers); the held-out relevant papers are the topic's papers in the
window. Every method ranks the window's papers (the positives are never in it):
``svm`` (C = 0.01, 0.1, 1), ``centroid``, ``trending`` (the site's trending list at the
window's end) and ``random`` (its expectation, relevant / candidates). Reported:
precision@10 and recall@10, averaged over users.

Run:  python bench/recommend.py [--draws 2] [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from _machine import Machine, add_machine_arguments
from paperfeed.config import Settings
from paperfeed.models import StoredPaper
from paperfeed.quickstart import load_bundled_corpus
from paperfeed.search import SearchEngine
from paperfeed.search.feeds import trending
from paperfeed.search.recommending import WINDOW_DAYS, rank_window
from paperfeed.store import Store

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / "bench" / "out" / "recommend_home"
ARXIV = ROOT.parent / "shared" / "data" / "arxiv"
HISTORY_DAYS = 180
SIZES = (2, 5, 10, 20)
STRENGTHS = (0.01, 0.1, 1.0)
CATEGORIES = {
    "robotics (cs.RO)": {"cs.RO"},
    "audio (cs.SD, eess.AS)": {"cs.SD", "eess.AS"},
    "retrieval (cs.IR)": {"cs.IR"},
    "graphics (cs.GR)": {"cs.GR"},
    "software (cs.SE)": {"cs.SE"},
    "multi-agent (cs.MA)": {"cs.MA"},
    "multimedia (cs.MM)": {"cs.MM"},
    "security (cs.CR)": {"cs.CR"},
    "HCI (cs.HC)": {"cs.HC"},
}
KEYWORDS = {
    "speech/audio": r"speech|audio|music|sound|voice|spoken|\btts\b",
    "robots": r"robot|embodied|manipulation|locomotion|humanoid",
    "medicine": r"medical|clinical|radiolog|patholog|health|surgical",
    "3D": r"\b3d\b|gaussian splatting|nerf\b|point cloud|\bmesh",
    "safety": r"safety|jailbreak|attack|adversarial|red.teaming",
    "molecules": r"molecul|protein|chemi|drug|\bcell",
    "retrieval": r"retrieval|\brag\b|search engine",
    "efficiency": r"quantiz|pruning|sparsit|compression|distillation",
    "math": r"\bmath|theorem|proof|olympiad",
    "video": r"video",
}


Topics = dict[str, Callable[[StoredPaper], bool]]


@dataclass
class Scores:
    """Sums of precision@10 and recall@10 per method, and the number of users."""

    users: int = 0
    relevant: int = 0
    candidates: int = 0
    precision: dict[str, float] = field(default_factory=dict)
    recall: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # ranking time per method

    def add(self, method: str, ranked: Sequence[int], relevant: set[int]) -> None:
        hits = len(set(ranked[:10]) & relevant)
        self.precision[method] = self.precision.get(method, 0.0) + hits / 10
        self.recall[method] = self.recall.get(method, 0.0) + hits / len(relevant)


def prepare() -> tuple[Store, SearchEngine]:
    HOME.mkdir(parents=True, exist_ok=True)
    settings = Settings.from_environment(
        {"PAPERFEED_HOME": str(HOME), "PAPERFEED_SECRET_KEY": "bench"}
    )
    store = Store(settings.database_url)
    if not (settings.index_dir / "state.json").exists():
        print("loading the bundled corpus (once) ...", file=sys.stderr)
        print(load_bundled_corpus(store, settings, show_progress=False), file=sys.stderr)
    return store, SearchEngine(store, settings)


def arxiv_categories(ids: set[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(ARXIV.glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as lines:
            for line in lines:
                record = json.loads(line)
                if record["id"] in ids and record.get("categories"):
                    found[record["id"]] = set(record["categories"])
    return found


def number(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def window_ends(first: str, last: str) -> list[date]:
    """The last day of every month from ``first`` to ``last`` (YYYY-MM)."""
    ends = []
    year, month = int(first[:4]), int(first[5:])
    while f"{year}-{month:02d}" <= last:
        following = date(year + month // 12, month % 12 + 1, 1)
        ends.append(following - timedelta(days=1))
        year, month = following.year, following.month
    return ends


def trending_keys(store: Store, end: date) -> list[int]:
    noon = datetime(end.year, end.month, end.day, 12, tzinfo=UTC).timestamp()
    return [item.paper.key for item in trending(store, limit=5000, now=noon)]


def evaluate(
    engine: SearchEngine,
    store: Store,
    papers: list[StoredPaper],
    topics: Topics,
    ends: list[date],
    judged: Callable[[StoredPaper], bool],
    draws: int,
    generator: random.Random,
    history_days: int | None = HISTORY_DAYS,
    topics_per_window: int | None = None,
) -> dict[int, Scores]:
    """Scores per positives count ``k`` over every topic, window and draw
    (at most ``topics_per_window`` qualifying topics a window, drawn at random)."""
    assert engine.vectors is not None
    dates = np.zeros(len(engine.dates), np.int32)
    for paper in papers:
        if judged(paper) and paper.key < len(dates):
            dates[paper.key] = engine.dates[paper.key]
    results = {size: Scores() for size in SIZES}
    for end in ends:
        start = end - timedelta(days=WINDOW_DAYS - 1)
        window = (number(start), number(end))
        history_start = number(start - timedelta(days=history_days)) if history_days else 0
        in_window = [p for p in papers if judged(p) and window[0] <= dates[p.key] <= window[1]]
        before = [p for p in papers if history_start <= engine.dates[p.key] < window[0]]
        trend = trending_keys(store, end)
        order = list(topics.values())
        generator.shuffle(order)
        used = 0
        for is_topic in order:
            if topics_per_window is not None and used >= topics_per_window:
                break
            relevant = {p.key for p in in_window if is_topic(p)}
            history = [p.key for p in before if is_topic(p)]
            if len(relevant) < (1 if history_days is None else 5) or len(history) < SIZES[0]:
                continue
            used += 1
            for size in SIZES:
                if len(history) < size:
                    continue
                for _ in range(draws):
                    positives = generator.sample(history, size)
                    scores = results[size]
                    scores.users += 1
                    scores.relevant += len(relevant)
                    candidates = len(in_window)
                    scores.candidates += candidates
                    scores.precision["random"] = scores.precision.get("random", 0.0) + min(
                        len(relevant) / candidates, 1.0
                    )
                    scores.recall["random"] = scores.recall.get("random", 0.0) + min(
                        10 / candidates, 1.0
                    )
                    allowed = {p.key for p in in_window}
                    scores.add(
                        "trending",
                        [key for key in trend if key in allowed and key not in positives],
                        relevant,
                    )
                    for method, strength in [("centroid", 0.0)] + [("svm", s) for s in STRENGTHS]:
                        name = method if method == "centroid" else f"svm C={strength:g}"
                        clock = time.perf_counter()
                        ranked = rank_window(
                            engine.vectors, dates, positives, window, method, strength or 0.1
                        )
                        scores.seconds[name] = scores.seconds.get(name, 0.0) + (
                            time.perf_counter() - clock
                        )
                        scores.add(name, ranked.keys.tolist(), relevant)
        print(f"  window ending {end}: done", file=sys.stderr)
    return results


def author_topics(papers: list[StoredPaper], minimum: int) -> Topics:
    counts: dict[str, int] = {}
    for paper in papers:
        for name in set(paper.authors):
            counts[name] = counts.get(name, 0) + 1
    prolific = sorted(name for name, count in counts.items() if count >= minimum)

    def wrote(name: str) -> Callable[[StoredPaper], bool]:
        return lambda paper: name in paper.authors

    return {name: wrote(name) for name in prolific}


def print_table(title: str, results: dict[int, Scores]) -> None:
    methods = ["random", "trending", "centroid"] + [f"svm C={s:g}" for s in STRENGTHS]
    print(f"\n{title}")
    header = "| k | users | relevant | window | " + " | ".join(methods) + " |"
    print(header)
    print("|" + "---|" * (4 + len(methods)))
    for size, scores in results.items():
        if not scores.users:
            continue
        cells = [
            f"{scores.precision[m] / scores.users:.3f} / {scores.recall[m] / scores.users:.2f}"
            for m in methods
        ]
        print(
            f"| {size} | {scores.users} | {scores.relevant / scores.users:.1f} | "
            f"{scores.candidates / scores.users:.0f} | " + " | ".join(cells) + " |"
        )
    users = sum(scores.users for scores in results.values())
    if users:
        timing = {
            name: sum(scores.seconds.get(name, 0.0) for scores in results.values())
            for name in methods[2:]
        }
        print(
            "mean ms per ranking (one window, fit included): "
            + ", ".join(f"{name} {1000 * seconds / users:.1f}" for name, seconds in timing.items())
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=2, help="users per topic and window")
    parser.add_argument("--quick", action="store_true", help="3 windows, fewer topics")
    parser.add_argument("--seed", type=int, default=7)
    add_machine_arguments(parser)
    options = parser.parse_args()
    machine = Machine.check(options)
    load_before = os.getloadavg()
    started = time.perf_counter()
    store, engine = prepare()
    papers = [paper for batch in store.iter_papers() for paper in batch]
    embedded = set(engine.vectors.keys.tolist()) if engine.vectors is not None else set()
    papers = [paper for paper in papers if paper.key in embedded]
    categories = arxiv_categories({paper.arxiv_id for paper in papers})
    print(
        f"{len(papers)} embedded papers, {len(categories)} with arXiv categories",
        file=sys.stderr,
    )
    generator = random.Random(options.seed)

    def in_categories(wanted: set[str]) -> Callable[[StoredPaper], bool]:
        return lambda paper: bool(categories.get(paper.arxiv_id, set()) & wanted)

    def titled(pattern: str) -> Callable[[StoredPaper], bool]:
        compiled = re.compile(pattern, re.IGNORECASE)
        return lambda paper: bool(compiled.search(paper.title))

    category_topics: Topics = {name: in_categories(w) for name, w in CATEGORIES.items()}
    keyword_topics: Topics = {name: titled(pattern) for name, pattern in KEYWORDS.items()}
    category_ends = window_ends("2025-06", "2026-06")
    keyword_ends = window_ends("2025-06", "2026-08")
    if options.quick:
        category_ends, keyword_ends = category_ends[-2:], keyword_ends[-2:]
        category_topics = dict(list(category_topics.items())[:3])
        keyword_topics = dict(list(keyword_topics.items())[:3])
    tables = {
        "category users (arXiv categories; candidates: papers with known categories)": evaluate(
            engine,
            store,
            papers,
            category_topics,
            category_ends,
            lambda p: p.arxiv_id in categories,
            options.draws,
            generator,
        ),
        "keyword users (title patterns; candidates: every embedded paper)": evaluate(
            engine,
            store,
            papers,
            keyword_topics,
            keyword_ends,
            lambda p: True,
            options.draws,
            generator,
        ),
        "author users (earlier papers as the pool, their papers in the window held out)": evaluate(
            engine,
            store,
            papers,
            author_topics(papers, 6),
            keyword_ends[-6:] if not options.quick else keyword_ends,
            lambda p: True,
            1,
            generator,
            history_days=None,
            topics_per_window=10 if options.quick else 60,
        ),
    }
    print(
        f"\n# For you, offline: precision@10 / recall@10 (mean over users), "
        f"{WINDOW_DAYS}-day windows, {len(papers)} papers"
    )
    for title, results in tables.items():
        print_table(title, results)
    print(
        f"\nload average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
        f"{time.perf_counter() - started:.0f} s"
    )
    machine.report()


if __name__ == "__main__":
    main()
