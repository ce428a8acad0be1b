"""A paper hidden by a moderator leaves both sides of search (words and meaning), on the
in-process index and inside PostgreSQL (pgvector), without a reindex; shown again, it
comes back. Another server process sees the change on its next refresh."""

from __future__ import annotations

import pytest

from paperfeed import moderation
from paperfeed.administration import Actor
from paperfeed.config import Settings
from paperfeed.search import SearchEngine
from paperfeed.search.query import parse_query
from test_pgvector import two_backends  # noqa: F401  (a fixture)

pytestmark = pytest.mark.postgres
TOP_PAPER = "2608.19880"  # EnvHarness
QUERY = "EnvHarness environment harness for agent learning"
CLI = Actor(None, "command line (test)")


def _sides(engine: SearchEngine, key: int) -> tuple[bool, bool, bool]:
    """Whether the paper is among the lexical, the dense, and the fused results."""
    parsed = parse_query(QUERY)
    lexical = key in engine.rank(parsed, use_dense=False).keys
    dense = key in engine.rank(parsed, use_lexical=False).keys
    fused = key in [hit.paper.key for hit in engine.search(parsed, limit=50).hits]
    return lexical, dense, fused


def test_hidden_papers_leave_both_backends_and_come_back(
    two_backends: tuple[SearchEngine, SearchEngine, Settings],  # noqa: F811
) -> None:
    in_process, in_database, _ = two_backends
    store = in_process.store
    paper = store.get_paper(TOP_PAPER)
    assert paper is not None
    engines = (in_process, in_database)
    for engine in engines:
        assert _sides(engine, paper.key) == (True, True, True)
        assert TOP_PAPER in [hit.paper.arxiv_id for hit in engine.similar("2608.00677", 50)]

    other_process = SearchEngine(store, in_process.settings)
    other_process.hidden.refresh_seconds = 0.0  # what two seconds do to a real server
    assert _sides(other_process, paper.key) == (True, True, True)
    moderation.hide_paper(store, CLI, TOP_PAPER, "test")
    for engine in engines:
        assert engine.refresh_hidden(force=True)
        assert _sides(engine, paper.key) == (False, False, False)
        pinned = engine.search(TOP_PAPER)
        assert TOP_PAPER not in [hit.paper.arxiv_id for hit in pinned.hits]
        similar = engine.similar("2608.00677", 50)  # OpenART: EnvHarness is its nearest
        assert similar and TOP_PAPER not in [hit.paper.arxiv_id for hit in similar]
    assert _sides(other_process, paper.key) == (True, True, True)  # its cached pages
    assert other_process.reload_if_changed()
    assert _sides(other_process, paper.key) == (False, False, False)

    moderation.unhide_paper(store, CLI, TOP_PAPER)
    for engine in (*engines, other_process):
        engine.refresh_hidden(force=True)
        assert _sides(engine, paper.key) == (True, True, True)
