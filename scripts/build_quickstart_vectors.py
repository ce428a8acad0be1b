"""Make the bundled quick-start vectors with `paperfeed index` itself.

Ingests the bundled corpus into a scratch home, runs the normal index update (which embeds
every paper with the default model), and writes the vectors next to the corpus as
``vectors.npy`` (float16) + ``vectors.json``. Takes ~20 minutes on 2 cores.

Run:  python scripts/build_quickstart_vectors.py [--home /tmp/quickstart-build]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.quickstart import BUNDLE, export_bundled_vectors
from paperfeed.store import Store
from paperfeed.store.loading import ingest_sources


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/quickstart-build"))
    parser.add_argument("--model", default="minilm")
    arguments = parser.parse_args()
    settings = Settings.from_environment(
        {"PAPERFEED_HOME": str(arguments.home), "PAPERFEED_EMBED_MODEL": arguments.model}
    )
    store = Store(settings.database_url)
    ingest_sources(store, [BUNDLE / "papers.jsonl.gz"])
    report = update_index(store, settings)
    count = export_bundled_vectors(store, arguments.model)
    print(f"embedded {report.embedded} papers; wrote {count} vectors to {BUNDLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
