"""Collections and discussion at size: export, import (by arXiv id and by title) and the
comment reads every page makes, on the bundled 9,877-paper corpus (or more with --papers).

Import by title reads every stored title once per import, so it grows with the store;
import by arXiv id is one indexed lookup per 900 entries. The comment totals on a page's
cards count the comments of the 20 papers shown (``discussion.comment_counts``); the row
beside it counts every commented paper, as pages did before, for comparison.

Run:  python bench/reading_lists.py [--papers ../shared/data/arxiv] [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _machine import Machine, add_machine_arguments
from paperfeed import collections as lists
from paperfeed import discussion
from paperfeed.collections.exporting import export_papers
from paperfeed.collections.importing import import_references
from paperfeed.quickstart import BUNDLE
from paperfeed.store import Store
from paperfeed.store import comments as comment_rows
from paperfeed.store.accounts import User, insert_user
from paperfeed.store.loading import ingest_sources


def _time(function: Callable[[], object], repeat: int) -> float:
    """Best of ``repeat`` runs, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def _bibtex(entries: list[tuple[str, str]], by_title: bool) -> str:
    lines = []
    for number, (arxiv_id, title) in enumerate(entries):
        field = (
            f"title = {{{title}}}"
            if by_title
            else f"eprint = {{{arxiv_id}}}, archivePrefix = {{arXiv}}"
        )
        lines.append(f"@misc{{entry{number},\n  {field},\n}}\n")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=Path, action="append", help="more sources to ingest")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = Machine.check(arguments)
    sizes = [10, 100] if arguments.quick else [100, 1000]
    repeat = 1 if arguments.quick else 3
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/bench.db")
        ingest_sources(
            store, [BUNDLE / "papers.jsonl.gz", *(arguments.papers or [])], show_progress=False
        )
        papers = [paper for batch in store.iter_papers() for paper in batch]
        print(f"store: {len(papers):,} papers (SQLite)", file=sys.stderr)
        rows: list[tuple[str, str]] = []
        random.seed(7)
        user: User = insert_user(store, "bench@example.org", "bench", "x")
        for size in sizes:
            chosen = random.sample(papers, size)
            collection = lists.create_collection(store, user, f"export {size}")
            lists.add_papers(store, user, collection.id, [p.key for p in chosen])
            collection = lists.visible_collection(store, collection.id, user)
            content = lists.collection_papers(store, collection)
            for name in ("bibtex", "ris", "csv"):
                ms = _time(lambda c=collection, p=content, n=name: export_papers(c, p, n), repeat)
                rows.append((f"export {size} papers as {name}", f"{ms:,.0f} ms"))
            pairs = [(p.arxiv_id, p.title) for p in chosen]
            for by_title in (False, True):
                text = _bibtex(pairs, by_title)

                def run(text: str = text) -> None:
                    target = lists.create_collection(store, user, "import")
                    import_references(store, user, target.id, text)
                    lists.delete_collection(store, user, target.id)

                ms = _time(run, repeat)
                how = "by title only" if by_title else "by arXiv id"
                rows.append((f"import {size} entries {how}", f"{ms:,.0f} ms"))
        comment_count = 2000 if arguments.quick else 20000
        paper = papers[0]
        now = time.time()
        commented = random.sample(papers, min(len(papers), 500))
        for number in range(comment_count):
            target = paper if number < 500 else commented[number % len(commented)]
            comment_rows.insert_comment(store, target.key, user.id, None, f"comment {number}", now)
        ms = _time(lambda: discussion.paper_threads(store, paper), repeat)
        rows.append(("a paper page's 500 threads", f"{ms:,.1f} ms"))
        shown = [paper.key] + [other.key for other in commented[:19]]
        ms = _time(lambda: discussion.comment_counts(store, shown), repeat)
        rows.append((f"comment totals, 20 cards ({comment_count:,} comments)", f"{ms:,.2f} ms"))
        ms = _time(lambda: comment_rows.count_comments(store), repeat)
        rows.append(("the same for every commented paper (before)", f"{ms:,.2f} ms"))
        store.close()
    width = max(len(what) for what, _ in rows)
    print(f"| {'what'.ljust(width)} | time (best of {repeat}) |")
    print(f"|{'-' * (width + 2)}|---|")
    for what, figure in rows:
        print(f"| {what.ljust(width)} | {figure} |")
    machine.report()


if __name__ == "__main__":
    main()
