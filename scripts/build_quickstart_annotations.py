"""Make the bundled quick-start keywords and TL;DRs with the index's own annotator.

Ingests the bundled corpus into a scratch home, runs the annotation stage (no embedding),
and writes ``annotations.json.gz`` next to the corpus: ``{"annotator_version": N,
"papers": {arxiv_id: [content_hash, keywords, tldr]}}``. Re-run it whenever
``index.annotations.ANNOTATOR_VERSION`` changes (a bundle of another version is ignored).

Run:  python scripts/build_quickstart_annotations.py [--home /tmp/quickstart-annotate]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from paperfeed.config import Settings
from paperfeed.index.annotation_stage import annotate_pending
from paperfeed.index.builder import lexical_folder
from paperfeed.quickstart import BUNDLE, export_bundled_annotations
from paperfeed.store import Store
from paperfeed.store.loading import ingest_sources


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/quickstart-annotate"))
    arguments = parser.parse_args()
    shutil.rmtree(arguments.home, ignore_errors=True)
    settings = Settings.from_environment({"PAPERFEED_HOME": str(arguments.home)})
    store = Store(settings.database_url)
    ingest_sources(store, [BUNDLE / "papers.jsonl.gz"], show_progress=False)
    annotated = annotate_pending(store, lexical_folder(settings), show_progress=False)
    count = export_bundled_annotations(store)
    print(f"annotated {annotated} papers; wrote {count} to {BUNDLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
