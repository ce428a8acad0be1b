"""The running site with the original site's own answer for its latest day ingested over
it, so the submitters' and organisations' objects are stored as the source gave them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from paperfeed.store.loading import ingest_sources
from running_site import FIXTURES, LATEST_DAY, Site

RECORDED_DAY = FIXTURES / "daily_papers_recorded" / f"{LATEST_DAY}.json"
TOP_PAPER = "2608.19880"  # EnvHarness, 163 upvotes, submitted by taesiri, Google's


def ingest_recorded_day(site: Site) -> list[dict[str, Any]]:
    """Ingest the recorded day into the site's store; returns the recorded entries."""
    summary = ingest_sources(site.store, [RECORDED_DAY], "daily-papers-api", show_progress=False)
    assert summary.rejected == 0
    recorded: list[dict[str, Any]] = json.loads(Path(RECORDED_DAY).read_text())
    return recorded
