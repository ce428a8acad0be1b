"""Ingest and index throughput on all shared papers, and a daily increment of 1,000 papers.

1. From an empty home: ingest every shared paper (arXiv listings + the daily-papers API
   archive) and build the lexical index: the time until all of them are searchable.
2. Re-ingest the same files: the idempotent no-op path.
3. Daily increment: a home holding everything but the 1,000 most recently listed papers
   (lexical index built), then those 1,000 are ingested and `update_index` runs with
   embedding: new segment + embedding the 1,000 + vector index rebuild.
4. Embedding throughput of the default model on 500 real abstracts.

Run:  python bench/ingest.py [--model minilm] [--increment 1000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import shutil
import sys
import time
from pathlib import Path

from _machine import Machine, add_machine_arguments
from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.index.embedder import embedding_text, load_configured_embedder
from paperfeed.store import Store
from paperfeed.store.loading import ingest_sources

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out"


def _home(name: str, model: str) -> Settings:
    home = OUT / name
    shutil.rmtree(home, ignore_errors=True)
    return Settings.from_environment({"PAPERFEED_HOME": str(home), "PAPERFEED_EMBED_MODEL": model})


def _split_newest(count: int, folder: Path) -> tuple[Path, Path]:
    """Write the arXiv records as two files: all but the ``count`` newest, and those."""
    records = []
    for path in sorted((SHARED / "arxiv").glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as handle:
            records.extend(handle.readlines())
    records.sort(key=lambda line: json.loads(line).get("first_listed") or "")
    folder.mkdir(parents=True, exist_ok=True)
    base, newest = folder / "base.jsonl.gz", folder / "newest.jsonl.gz"
    with gzip.open(base, "wt") as handle:
        handle.writelines(records[:-count])
    with gzip.open(newest, "wt") as handle:
        handle.writelines(records[-count:])
    return base, newest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--increment", type=int, default=1000)
    parser.add_argument("--embed-sample", type=int, default=500)
    add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = Machine.check(arguments)
    sources = [SHARED / "arxiv", SHARED / "hf_daily_papers" / "daily_papers_api.tar.gz"]
    rows: list[tuple[str, str]] = []

    settings = _home("ingest_home", arguments.model)
    store = Store(settings.database_url)
    started = time.perf_counter()
    summary = ingest_sources(store, sources)
    ingest_seconds = time.perf_counter() - started
    started = time.perf_counter()
    update_index(store, settings, embed=False)
    lexical_seconds = time.perf_counter() - started
    papers = store.count_papers()
    rows += [
        (
            "ingest, all shared files",
            f"{ingest_seconds:6.1f} s  ({papers / ingest_seconds:,.0f} "
            f"papers/s; added {summary.added}, updated {summary.updated}, rejected "
            f"{summary.rejected})",
        ),
        ("lexical index, from empty", f"{lexical_seconds:6.1f} s  ({papers:,} papers)"),
        ("searchable after", f"{ingest_seconds + lexical_seconds:6.1f} s  (target <= 120 s)"),
    ]
    started = time.perf_counter()
    again = ingest_sources(store, sources)
    rows.append(
        (
            "re-ingest (no-op)",
            f"{time.perf_counter() - started:6.1f} s  (unchanged "
            f"{again.unchanged}, added {again.added}, updated {again.updated})",
        )
    )

    base, newest = _split_newest(arguments.increment, OUT / "increment_sources")
    settings = _home("increment_home", arguments.model)
    store = Store(settings.database_url)
    ingest_sources(store, [base])
    update_index(store, settings, embed=False)
    started = time.perf_counter()
    added = ingest_sources(store, [newest])
    report = update_index(store, settings, embed_limit=arguments.increment)
    rows.append(
        (
            f"daily increment of {added.added}",
            f"{time.perf_counter() - started:6.1f} s  "
            f"(ingest + new segment + embed {report.embedded} + vector index; "
            "target <= 60 s)",
        )
    )

    embedder = load_configured_embedder(settings)
    texts = []
    with gzip.open(SHARED / "hf_daily_papers" / "papers.jsonl.gz", "rt") as handle:
        for line in handle:
            record = json.loads(line)
            texts.append(embedding_text(record["title"], record["abstract"]))
            if len(texts) >= arguments.embed_sample:
                break
    embedder.embed(texts[:8])
    started = time.perf_counter()
    embedder.embed(texts)  # one call, as paperfeed index embeds a chunk: length-bucketed
    seconds = time.perf_counter() - started
    rows.append(
        (
            f"embedding ({arguments.model})",
            f"{len(texts) / seconds:6.1f} papers/s  "
            f"({len(texts)} real title+abstract texts, one length-bucketed call)",
        )
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("peak memory", f"{peak:6.0f} MB"))
    print(f"\n{'step':<30} result")
    for name, value in rows:
        print(f"{name:<30} {value}")
    machine.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
