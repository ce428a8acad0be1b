"""`paperfeed quickstart`: the bundled real corpus answers semantic queries at once."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.quickstart import BUNDLE


def test_quickstart_loads_the_bundle_with_its_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_EMBED_MODEL", "minilm")
    runner = CliRunner()
    result = runner.invoke(main, ["quickstart", "--quiet"])
    assert result.exit_code == 0, result.output
    bundled = len(json.loads((BUNDLE / "vectors.json").read_text())["ids"])
    assert f"imported {bundled} bundled vectors" in result.output
    assert "embedded 0 more" in result.output  # nothing re-embedded on a fresh install
    stats = json.loads(runner.invoke(main, ["stats", "--json"]).output)
    assert stats["papers"] == 9877
    assert stats["vectors"] == bundled == 9877
    # both sides answer at once, no paper had to be embedded on this machine: papers the
    # meaning ranks among its best come up beside the lexical matches
    query = "making language models cheaper to run"
    search = runner.invoke(main, ["search", query, "--json", "--limit", "30"])
    hits = json.loads(search.output)["hits"]
    assert {"both", "lexical"} <= {hit["found_by"] for hit in hits}
    assert any(hit["semantic_rank"] is not None and hit["semantic_rank"] <= 10 for hit in hits)
    # every paper got its keywords and TL;DR at quickstart
    assert all(hit["keywords"] and hit["tldr"] for hit in hits)
    # papers the arXiv crawl knows carry its categories, so cat: works on a fresh install
    filtered = json.loads(runner.invoke(main, ["search", "cat:cs.CL agents", "--json"]).output)
    assert filtered["hits"] and all("cs.CL" in hit["categories"] for hit in filtered["hits"])
    # running it again changes nothing
    again = runner.invoke(main, ["quickstart", "--quiet"])
    assert "added 0, unchanged 9877" in again.output
