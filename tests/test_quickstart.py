"""`paperfeed quickstart`: the bundled real corpus answers semantic queries at once."""

from __future__ import annotations

import gzip
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, update

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.index.annotation_stage import annotate_pending
from paperfeed.index.annotations import ANNOTATOR_VERSION
from paperfeed.index.builder import lexical_folder
from paperfeed.quickstart import ANNOTATIONS, BUNDLE
from paperfeed.store import Store, schema
from paperfeed.store.annotations import fresh_annotations
from paperfeed.store.loading import ingest_sources


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
    # running it again changes nothing, but puts back a vector and keywords that went
    store = Store(Settings.from_environment().database_url)
    with store.engine.begin() as connection:
        lost = connection.execute(
            delete(schema.embeddings).where(schema.embeddings.c.paper_key == 1)
        )
        assert lost.rowcount == 1
        connection.execute(
            update(schema.papers).where(schema.papers.c.key == 2).values(annotated_hash=None)
        )
    again = runner.invoke(main, ["quickstart", "--quiet"])
    assert again.exit_code == 0, again.output
    assert "added 0, unchanged 9877" in again.output
    assert "imported 1 bundled vectors; embedded 0 more; 9877 of 9877 papers" in again.output
    assert len(fresh_annotations(store)) == 9877
    store.close()


@pytest.mark.realdata
def test_the_bundled_keywords_and_tldrs_are_what_the_annotator_makes_today(
    settings: Settings,
) -> None:
    """The bundle's keywords and TL;DRs are taken as fresh for every paper whose text is
    unchanged. Tokenizer 3's folding of Greek letters had changed 28 papers' keywords
    without a new ``ANNOTATOR_VERSION``, so a quick start showed what ``paperfeed index``
    no longer made. Annotating the bundle's papers again gives the bundle, paper by paper
    (~40 s: the slower tier)."""
    store = Store(settings.database_url)
    ingest_sources(store, [BUNDLE / "papers.jsonl.gz"], show_progress=False)
    assert annotate_pending(store, lexical_folder(settings), show_progress=False) == 9877
    made = {
        arxiv_id: [content_hash, keywords, tldr]
        for arxiv_id, content_hash, keywords, tldr in fresh_annotations(store)
    }
    bundle = json.loads(gzip.decompress((BUNDLE / ANNOTATIONS).read_bytes()))
    assert bundle["annotator_version"] == ANNOTATOR_VERSION
    assert len(made) == len(bundle["papers"]) == 9877
    differing = sorted(
        arxiv_id for arxiv_id in made if made[arxiv_id] != bundle["papers"][arxiv_id]
    )
    assert not differing, f"{len(differing)} papers differ from the bundle, e.g. {differing[:3]}"
