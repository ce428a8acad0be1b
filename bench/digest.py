"""Composing digests for many subscribers over all shared papers.

Uses a copy of the database built by ``bench/latency.py`` (all ~89k shared papers with
vectors) under bench/out/digest_home, and that benchmark's index files read-only.
Subscribers: ``--subscribers`` (10,000), each with 3 topics drawn from a pool of
``--topics`` distinct saved searches built from the shared data: half are 2-3 rare
title words of a random paper (short technical queries), half a category plus one such
word. Popularity follows Zipf's law (s = 1), as real interests do; with
``--topics 30000`` every topic is distinct, the worst case. Times the whole
``queue_digests`` (compose, render, write to the outbox) for a day and for a week.

Run:  python bench/digest.py [--subscribers 10000] [--topics 500]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import delete

from _machine import Machine, add_machine_arguments
from paperfeed.config import Settings
from paperfeed.digest.sending import queue_digests
from paperfeed.index.tokenizer import tokenize
from paperfeed.progress import progress_bar
from paperfeed.search import SearchEngine
from paperfeed.store import Store, schema
from paperfeed.store.subscriptions import Topic, confirm_subscription, save_subscription

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "bench" / "out" / "latency_home"
HOME = ROOT / "bench" / "out" / "digest_home"
PERIODS = [("daily", "2026-03-05"), ("weekly", "2026-W10")]


def prepare_home() -> Settings:
    if not (SOURCE / "paperfeed.db").exists() or not (SOURCE / "index" / "state.json").exists():
        sys.exit("no bench/out/latency_home: run  python bench/latency.py --scale 0  first")
    HOME.mkdir(parents=True, exist_ok=True)
    if not (HOME / "paperfeed.db").exists():
        print("copying the 89k-paper database ...", file=sys.stderr)
        shutil.copyfile(SOURCE / "paperfeed.db", HOME / "paperfeed.db")
    environment = {
        "PAPERFEED_HOME": str(HOME),
        "PAPERFEED_INDEX_DIR": str(SOURCE / "index"),
        "PAPERFEED_SECRET_KEY": "bench",
        "PAPERFEED_EMBED_THREADS": os.environ.get("PAPERFEED_EMBED_THREADS", "0"),
    }
    return Settings.from_environment(environment)


def topic_pool(store: Store, size: int, generator: random.Random) -> list[str]:
    """Short technical queries from real titles: rare words, some with a category."""
    papers = [paper for batch in store.iter_papers() for paper in batch]
    frequency: dict[str, int] = {}
    for paper in papers:
        for word in set(tokenize(paper.title)):
            frequency[word] = frequency.get(word, 0) + 1
    pool: list[str] = []
    while len(pool) < size:
        paper = generator.choice(papers)
        words = [w for w in paper.title.split() if w.isalpha() and len(w) > 3]
        ranked = sorted(words, key=lambda w: frequency.get(next(iter(tokenize(w)), ""), 0) or 9e9)
        if len(ranked) < 2:
            continue
        if len(pool) % 2 == 0 or not paper.categories:
            pool.append(" ".join(ranked[: generator.choice((2, 3))]).lower())
        else:
            pool.append(f"{ranked[0].lower()} cat:{paper.categories[0]}")
    return pool


def make_subscribers(store: Store, count: int, pool: list[str], seed: int) -> None:
    with store.engine.begin() as connection:
        for table in (
            schema.sent_papers,
            schema.outbox,
            schema.subscription_topics,
            schema.subscriptions,
        ):
            connection.execute(delete(table))
    generator = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, len(pool) + 1)  # Zipf, s = 1
    weights /= weights.sum()
    bar = progress_bar("subscribers", total=count, unit=" subscribers")
    for number in range(count):
        chosen = generator.choice(len(pool), size=3, replace=False, p=weights)
        topics = [Topic(pool[index], 0.3) for index in chosen]
        subscription = save_subscription(
            store, f"reader{number}@example.org", "daily", "UTC", topics
        )
        confirm_subscription(store, subscription.id)
        bar.update(1)
    bar.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--topics", type=int, default=500, help="distinct topics in the pool")
    parser.add_argument("--seed", type=int, default=7)
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = Machine.check(arguments)
    settings = prepare_home()
    store = Store(settings.database_url)
    pool = topic_pool(store, arguments.topics, random.Random(arguments.seed))
    make_subscribers(store, arguments.subscribers, pool, arguments.seed)
    engine = SearchEngine(store, settings)
    engine.search("warm up the model")
    rows = []
    for frequency, label in PERIODS:
        if frequency == "weekly":  # the same subscribers, now weekly
            with store.engine.begin() as connection:
                connection.execute(schema.subscriptions.update().values(frequency="weekly"))
        engine.reload()  # every period starts cold (empties the result caches)
        started = time.perf_counter()
        report = queue_digests(store, engine, settings, frequency, period=label, show_progress=True)
        seconds = time.perf_counter() - started
        rows.append((frequency, label, report, seconds))
    papers = store.count_papers()
    print(
        f"\n{papers:,} papers; {arguments.subscribers:,} subscribers x 3 topics from a pool of "
        f"{arguments.topics:,}; {os.cpu_count()} cores"
    )
    print(
        f"{'period':<18} {'digests':>8} {'empty':>6} {'searches':>9} {'per subscriber':>15} "
        f"{'seconds':>8} {'digests/s':>10}"
    )
    for frequency, label, report, seconds in rows:
        per = report.searches / max(report.subscribers, 1)
        print(
            f"{frequency + ' ' + label:<18} {report.queued:>8,} {report.empty:>6,} "
            f"{report.searches:>9,} {per:>15.3f} {seconds:>8.1f} "
            f"{report.queued / seconds:>10.0f}"
        )
    machine.report()
    store.close()


if __name__ == "__main__":
    main()
