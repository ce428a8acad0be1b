"""One weekday of cs.* listings, replayed locally: harvested, stored, searchable, embedded.

The records are real (``shared/data/arxiv``): the listings of two busy weekdays
(2026-06-02 and 2026-05-12, 713 + 616 papers) put on one day, so the day is the size
of a real cs.* weekday (~1,000-1,500 new papers). They are served by the tests' OAI-PMH
replay server (``tests/replay_server.py``) in pages of 1,000 records, as arXiv pages
them, and harvested with ``paperfeed sync``'s own code (no polite delay: the server is
local). Stages, each timed:

  parse    the OAI-PMH pages alone, records per second (target: >= 1,000/s)
  harvest  HTTP + parse + store, every page one transaction
  lexical  the lexical index update: the day is searchable after this
  embed    the day's papers embedded with PAPERFEED_EMBED_MODEL (default minilm)
  vectors  the vector index rebuilt

Target: harvest + lexical + embed + vectors <= 60 s on 2 cores. Run it on a quiet
machine:  python bench/sync.py            (a quick check: --size 200 --model hashing)
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
from paperfeed.ingest.oai_pmh import parse_list_records  # noqa: E402
from paperfeed.store import Store  # noqa: E402
from paperfeed.sync.arxiv import harvest_arxiv  # noqa: E402
from replay_server import Replay, list_records, load_arxiv_records, serve_replay  # noqa: E402

SHARED = Path(os.environ.get("PAPERFEED_SHARED_DATA") or HERE.parents[1] / "shared" / "data")
DAYS = {"2026-06": "2026-06-02", "2026-05": "2026-05-12"}
LISTED = "2026-06-02"


def _records(size: int | None) -> list[dict[str, object]]:
    records = []
    for month, day in DAYS.items():
        records += load_arxiv_records(SHARED / "arxiv" / f"arxiv_{month}.jsonl.gz", [day])
    records = [dict(record, datestamp=LISTED) for record in records]
    return records[:size] if size else records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, help="use only this many papers (a quick check)")
    parser.add_argument("--model", default=os.environ.get("PAPERFEED_EMBED_MODEL", "minilm"))
    parser.add_argument("--page-size", type=int, default=1000)
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = Machine.check(arguments)
    load_before = os.getloadavg()
    records = _records(arguments.size)
    replay = Replay(records=records, page_size=arguments.page_size, response_date=LISTED)
    rows: list[tuple[str, float, str]] = []

    # parse: the pages as the server sends them, parsed without the network
    pages = []
    offset = 0
    while True:
        query = (
            {"verb": "ListRecords", "metadataPrefix": "arXiv", "set": "cs", "from": LISTED}
            if offset == 0
            else {"verb": "ListRecords", "resumptionToken": f"cs|{LISTED}||{offset}"}
        )
        pages.append(list_records(replay, query)[1])
        offset += arguments.page_size
        if offset >= len(records):
            break
    started = time.perf_counter()
    parsed = sum(len(parse_list_records(body).papers) for body in pages)
    seconds = time.perf_counter() - started
    megabytes = sum(len(body) for body in pages) / 1e6
    rows.append(("parse", seconds, f"{parsed / seconds:,.0f} records/s ({megabytes:.1f} MB)"))

    with tempfile.TemporaryDirectory(prefix="paperfeed-bench-sync-") as home:
        with serve_replay(replay) as base:
            settings = Settings.from_environment(
                {
                    "PAPERFEED_HOME": home,
                    "PAPERFEED_EMBED_MODEL": arguments.model,
                    "PAPERFEED_ARXIV_OAI_URL": f"{base}/oai",
                    "PAPERFEED_SYNC_DELAY_SECONDS": "0",
                }
            )
            store = Store(settings.database_url)
            started = time.perf_counter()
            report = harvest_arxiv(store, settings, LISTED)
            seconds = time.perf_counter() - started
            assert report.error is None, report.error
            rows.append(("harvest", seconds, f"{report.summary()}; {report.requests} requests"))
        rows += index_stages(
            store,
            settings,
            str(records[len(records) // 2]["title"]),
            str(records[len(records) // 2]["id"]),
        )
        store.close()
    print_stage_table(
        f"sync benchmark: {len(records)} cs.* papers of one day", rows, load_before, 60
    )
    machine.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
