"""Author pages: the papers of an author found by reading every paper's authors, and by
the search index's author postings (what the site does), on the home in $PAPERFEED_HOME.

For names drawn from the stored papers (seeded) plus a few written differently
("yann   lecun"), it checks that both ways find the same papers and prints the mean time
of ``search.profiles.author_profile`` each way. A home with all 89,468 shared papers and
a lexical index needs no real embedder: ``PAPERFEED_EMBED_MODEL=hashing paperfeed ingest
src/paperfeed/data/quickstart/papers.jsonl.gz ../shared/data/arxiv/`` then ``paperfeed
index`` with the same setting.

Run:  PAPERFEED_HOME=HOME python bench/author_pages.py [--names 150]
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from _machine import Machine, add_machine_arguments
from paperfeed.config import Settings
from paperfeed.search.engine import SearchEngine
from paperfeed.search.profiles import author_profile
from paperfeed.store import Store

WRITTEN_DIFFERENTLY = ["yann   lecun", "KAIMING HE", "Nobody Atall", "O'Brien"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=150, help="author names to look up")
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = Machine.check(arguments)
    settings = Settings.from_environment()
    store = Store(settings.database_url)
    engine = SearchEngine(store, settings)
    if engine.lexical is None:
        print(f"no search index in {settings.home}: run `paperfeed index` first", file=sys.stderr)
        return 1
    authors = [name for batch in store.iter_papers() for paper in batch for name in paper.authors]
    random.seed(3)
    names = random.sample(authors, min(arguments.names, len(authors))) + WRITTEN_DIFFERENTLY
    differ = 0
    scan = indexed = 0.0
    for name in names:
        started = time.perf_counter()
        every = author_profile(store, name)
        scan += time.perf_counter() - started
        started = time.perf_counter()
        by_index = author_profile(store, name, engine.lexical)
        indexed += time.perf_counter() - started
        if (every and every.papers) != (by_index and by_index.papers):
            differ += 1
            print(f"not the same papers for {name!r}", file=sys.stderr)
    print(f"{store.count_papers():,} papers; {len(names)} names; {differ} found differently")
    print()
    print("| author page's papers | ms a name (mean) |")
    print("|---|---:|")
    print(f"| every paper's authors read | {scan / len(names) * 1000:.1f} |")
    print(f"| the index's author postings | {indexed / len(names) * 1000:.1f} |")
    machine.report()
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
