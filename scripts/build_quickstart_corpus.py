"""Make the bundled quick-start corpus: the daily-papers crawl, with arXiv's categories added.

Reads ``shared/data/hf_daily_papers/papers.jsonl.gz`` (9,877 papers of the public
daily-papers feed) and every ``shared/data/arxiv/*.jsonl.gz`` (the arXiv listing crawl),
and writes ``src/paperfeed/data/quickstart/papers.jsonl.gz``: each daily-papers line as
it was, plus ``"categories"`` (primary first) where the arXiv crawl knows them (4,373
papers; 4,419 are in the crawl, some with null categories). Title and abstract are not
touched, so the content hashes in ``vectors.json`` still match and ``vectors.npy`` stays
aligned (``tests/test_quickstart.py`` imports every bundled vector). From the API crawl of
the same days (``hf_daily_papers/daily_papers_api.tar.gz``) each line gets
``"submitted_by_profile"`` and ``"organization_profile"`` where the crawl describes its
submitter and organisation (avatar, display name, ...: what the original site sends as
``submittedBy`` and ``organization``, and what ``hf papers ls`` shows as the submitter).
The gzip carries no timestamp, so re-running it on the same data writes the same bytes.

Run:  python scripts/build_quickstart_corpus.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

from paperfeed.ingest.daily_papers_api import read_daily_papers_api
from paperfeed.models import Paper
from paperfeed.quickstart import BUNDLE


def arxiv_categories(folder: Path) -> dict[str, list[str]]:
    """Categories by arXiv id from the listing crawl (monthly files first, forks after)."""
    found: dict[str, list[str]] = {}
    files = sorted(folder.glob("arxiv_*.jsonl.gz")) + sorted(folder.glob("extra_*.jsonl.gz"))
    for path in files:
        with gzip.open(path) as stream:
            for line in stream:
                record = json.loads(line)
                if record.get("categories") and record["id"] not in found:
                    found[record["id"]] = record["categories"]
    return found


def source_profiles(archive: Path) -> dict[str, dict[str, tuple[str, dict[str, object]]]]:
    """The submitter and organisation of each paper as the API crawl describes them, by
    arXiv id: kind -> (the name papers give it, the kept profile); the last day's wins."""
    found: dict[str, dict[str, tuple[str, dict[str, object]]]] = {}
    for item in read_daily_papers_api(archive):
        if isinstance(item, Paper):
            found[item.arxiv_id] = {
                account.kind: (account.name, account.profile) for account in item.accounts
            }
    return found


def add_profiles(
    record: dict[str, object], profiles: dict[str, tuple[str, dict[str, object]]]
) -> None:
    """Add the crawl's profiles of the record's own submitter and organisation."""
    for kind, field, key in [
        ("user", "submitted_by", "submitted_by_profile"),
        ("organization", "organization", "organization_profile"),
    ]:
        name, profile = profiles.get(kind, ("", {}))
        if name and record.get(field) == name:
            record[key] = profile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    arguments = parser.parse_args()
    categories = arxiv_categories(arguments.shared / "arxiv")
    profiles = source_profiles(arguments.shared / "hf_daily_papers" / "daily_papers_api.tar.gz")
    source = arguments.shared / "hf_daily_papers" / "papers.jsonl.gz"
    lines = []
    with_categories = 0
    with_profiles = 0
    with gzip.open(source) as stream:
        for line in stream:
            record = json.loads(line)
            known = categories.get(record["id"])
            if known:
                record["categories"] = known
                with_categories += 1
            add_profiles(record, profiles.get(record["id"], {}))
            with_profiles += "submitted_by_profile" in record
            lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    target = BUNDLE / "papers.jsonl.gz"
    with open(target, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write("".join(lines).encode("utf-8"))
    print(
        f"wrote {len(lines)} papers to {target}; {with_categories} carry arXiv categories, "
        f"{with_profiles} their submitter's profile"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
