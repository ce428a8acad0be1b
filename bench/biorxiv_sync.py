"""A day of bioRxiv (~200 preprints) replayed locally: harvested, stored, searchable, embedded.

The records are in the details API's format (``tests/preprint_replay.py``, written from
https://api.biorxiv.org's documentation); their titles and abstracts are real ones
(``shared/data/arxiv``, the first listings of 2026-06-02) standing in for a day of
preprints, with bioRxiv subjects, DOIs and authors as the API gives them. Pages of 100,
as the service pages them, harvested with ``paperfeed sync biorxiv``'s own code (no
polite delay: the server is local). Stages, each timed:

  parse    the API pages alone, records per second
  harvest  HTTP + parse + store, every page one transaction with its cursor
  lexical  the lexical index update: the day is searchable after this
  embed    the day's papers embedded with PAPERFEED_EMBED_MODEL (default minilm)
  vectors  the vector index rebuilt

Target: harvest + lexical + embed + vectors <= 10 s on 2 cores. Run it on a quiet
machine:  python bench/biorxiv_sync.py     (a quick check: --size 20 --model hashing)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _machine import Machine, add_machine_arguments
from _sync_stages import index_stages, print_stage_table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the replay server lives with the tests

from paperfeed.config import Settings  # noqa: E402
from paperfeed.ingest.biorxiv_api import parse_details_page  # noqa: E402
from paperfeed.store import Store  # noqa: E402
from paperfeed.sync.biorxiv import harvest_preprints  # noqa: E402
from preprint_replay import PAGE_SIZE, PreprintReplay, make_record, serve_preprints  # noqa: E402
from replay_server import load_arxiv_records  # noqa: E402

SHARED = Path(os.environ.get("PAPERFEED_SHARED_DATA") or HERE.parents[1] / "shared" / "data")
DAY = "2026-06-02"
SUBJECTS = (
    "neuroscience", "microbiology", "cell biology", "genomics", "bioinformatics",
    "cancer biology", "immunology", "plant biology", "ecology", "biophysics",
)  # fmt: skip


def _records(size: int) -> list[dict[str, object]]:
    texts = load_arxiv_records(SHARED / "arxiv" / "arxiv_2026-06.jsonl.gz", [DAY], limit=size)
    return [
        make_record(
            number,
            DAY,
            category=SUBJECTS[number % len(SUBJECTS)],
            title=str(text["title"]),
            abstract=str(text["abstract"]),
        )
        for number, text in enumerate(texts)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200, help="preprints in the day")
    parser.add_argument("--model", default=os.environ.get("PAPERFEED_EMBED_MODEL", "minilm"))
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = Machine.check(arguments)
    load_before = os.getloadavg()
    records = _records(arguments.size)
    replay = PreprintReplay(records={"biorxiv": records})
    rows: list[tuple[str, float, str]] = []

    pages = [
        replay.details("biorxiv", DAY, DAY, cursor) for cursor in range(0, len(records), PAGE_SIZE)
    ]
    started = time.perf_counter()
    parsed = sum(len(parse_details_page(body, "bench", "biorxiv").papers) for body in pages)
    seconds = time.perf_counter() - started
    megabytes = sum(len(body) for body in pages) / 1e6
    rows.append(("parse", seconds, f"{parsed / seconds:,.0f} records/s ({megabytes:.2f} MB)"))

    with tempfile.TemporaryDirectory(prefix="paperfeed-bench-biorxiv-") as home:
        with serve_preprints(replay) as base:
            settings = Settings.from_environment(
                {
                    "PAPERFEED_HOME": home,
                    "PAPERFEED_EMBED_MODEL": arguments.model,
                    "PAPERFEED_BIORXIV_API_URL": base,
                    "PAPERFEED_BIORXIV_SERVERS": "biorxiv",
                    "PAPERFEED_SYNC_DELAY_SECONDS": "0",
                }
            )
            store = Store(settings.database_url)
            started = time.perf_counter()
            report = harvest_preprints(store, settings, "biorxiv", DAY, DAY)
            seconds = time.perf_counter() - started
            assert report.error is None, report.error
            rows.append(("harvest", seconds, f"{report.summary()}; {report.requests} requests"))
        middle = records[len(records) // 2]
        rows += index_stages(store, settings, str(middle["title"]), str(middle["doi"]))
        store.close()
    print_stage_table(
        f"bioRxiv sync benchmark: {len(records)} preprints of one day", rows, load_before, 10
    )
    machine.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
