"""Trending and the weekly list as a site's votes grow, on the bundled 9,877-paper corpus.

Two kinds of site, each at several vote counts (users voting on random papers, half of
the votes on the newest 600):

* ``synced``: the daily list is current, so trending's anchor is today's list and the
  votes fall over the last 60 days;
* ``archive``: the daily source stopped (the bundled corpus ends in August 2026, as on a
  laptop that never syncs) and the votes were cast since, after the anchor.

Each row is the best of 3 calls of ``feeds.trending`` (50 papers, 48-hour half-life), of
``feeds.daily_feed`` for the corpus's last full week, and of ``/api/daily_papers`` sorted
by trending within that week and within a month a year before it (its votes decayed to
the period's end). A second table times the status
line every feed page shows (``sync_runs.sync_overview``) as sync runs pile up: 4 sources
every 30 minutes is ~70,000 runs a year, and runs are never deleted. Run it twice to
compare two checkouts: ``PYTHONPATH=<checkout>/src python bench/feeds.py``.

Run:  python bench/feeds.py [--votes 20000,200000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

import paperfeed
from _machine import Machine, add_machine_arguments
from paperfeed.quickstart import BUNDLE
from paperfeed.search.daily_listing import DailyQuery, daily_papers
from paperfeed.search.feeds import daily_feed, trending
from paperfeed.store import Store, schema
from paperfeed.store.daily import latest_daily_date
from paperfeed.store.loading import ingest_sources
from paperfeed.store.sync_runs import sync_overview

USERS = 3000
DAY = 86400.0


def _best_ms(function: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def _add_votes(store: Store, keys: list[int], count: int, first: float, last: float) -> None:
    """``count`` distinct (user, paper) votes cast uniformly between ``first`` and ``last``."""
    newest = keys[-600:]
    chosen: set[tuple[int, int]] = set()
    while len(chosen) < count:
        paper = random.choice(newest) if random.random() < 0.5 else random.choice(keys)
        chosen.add((random.randint(1, USERS), paper))
    rows = [
        {"user_id": user, "paper_key": paper, "created_at": random.uniform(first, last)}
        for user, paper in chosen
    ]
    with store.engine.begin() as connection:
        connection.execute(schema.votes.delete())
        connection.execute(insert(schema.votes), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", default="20000,200000", help="vote counts, comma-separated")
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = Machine.check(arguments)
    counts = [int(value) for value in arguments.votes.split(",")]
    random.seed(7)
    print(f"paperfeed from {Path(paperfeed.__file__).parent}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/bench.db")
        ingest_sources(store, [BUNDLE / "papers.jsonl.gz"], show_progress=False)
        keys = sorted(paper.key for batch in store.iter_papers() for paper in batch)
        with store.engine.begin() as connection:
            connection.execute(
                insert(schema.users),
                [
                    {
                        "id": number,
                        "email": f"user{number}@example.org",
                        "name": f"User {number}",
                        "password_hash": "x",
                        "created_at": 0.0,
                    }
                    for number in range(1, USERS + 1)
                ],
            )
        last_day = latest_daily_date(store)
        assert last_day is not None
        anchor = datetime.fromisoformat(last_day).replace(hour=12, tzinfo=UTC).timestamp()
        monday = date.fromisoformat(last_day) - timedelta(days=7)
        monday -= timedelta(days=monday.weekday())
        week = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"
        old_month = f"{monday.year - 1}-{monday.month:02d}"
        print(
            f"| site | votes | trending, 50 papers | weekly list ({week}) "
            f"| API trending in {week} | API trending in {old_month} |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for site in ("synced", "archive"):
            for count in counts:
                if site == "synced":  # the anchor is "now": the last list's noon
                    now, first, last = anchor + 3600, anchor - 60 * DAY, anchor
                else:  # four months without a list, voting all along
                    now, first, last = anchor + 120 * DAY, anchor, anchor + 120 * DAY
                _add_votes(store, keys, count, first, last)

                def trending_now(now: float = now) -> object:
                    return trending(store, 48.0, limit=50, now=now)

                trending_ms = _best_ms(trending_now)
                week_ms = _best_ms(lambda: daily_feed(store, week=week))
                api_week_ms = _best_ms(
                    lambda: daily_papers(store, DailyQuery(week=week, sort="trending"))
                )
                api_month_ms = _best_ms(
                    lambda: daily_papers(store, DailyQuery(month=old_month, sort="trending"))
                )
                print(
                    f"| {site} | {count:,} | {trending_ms:,.1f} ms | {week_ms:,.1f} ms "
                    f"| {api_week_ms:,.1f} ms | {api_month_ms:,.1f} ms |"
                )
        print()
        print("| sync runs | the status line's read |")
        print("|---:|---:|")
        sources = ["arxiv-oai", "arxiv-listing", "daily-papers", "index"]
        stored = 0
        for runs in (1_000, 10_000, 70_000):
            rows = [
                {
                    "source": sources[number % 4],
                    "started_at": anchor + number * 450.0,
                    "finished_at": anchor + number * 450.0 + 60,
                    "status": "failed" if number % 13 == 0 else "ok",
                    "added": 5,
                    "updated": 1,
                    "unchanged": 0,
                    "rejected": 0,
                    "withdrawn": 0,
                }
                for number in range(stored, runs)
            ]
            with store.engine.begin() as connection:
                connection.execute(insert(schema.sync_runs), rows)
            stored = runs
            print(f"| {runs:,} | {_best_ms(lambda: sync_overview(store), 5):,.2f} ms |")
        store.close()
    machine.report()


if __name__ == "__main__":
    main()
