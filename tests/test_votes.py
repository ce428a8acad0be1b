"""Votes and daily-list submissions as a library: toggling, counting, a paper stored or
fetched from arXiv."""

from __future__ import annotations

import socket
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from paperfeed import accounts, votes
from paperfeed.models import Paper
from paperfeed.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def store(database_url: str) -> Store:
    store = Store(database_url)
    store.upsert_papers(
        [
            Paper("2608.00001", "A paper", "Its abstract.", ["A"], daily_date="2026-08-14"),
            Paper("2503.00002", "Not on a list", "Abstract.", ["B"], first_listed="2025-03-04"),
        ]
    )
    return store


def test_votes_toggle_and_count_once(store: Store) -> None:
    user = accounts.sign_up(store, "v@example.org", "long enough")
    assert votes.upvote(store, user, "2608.00001").upvotes == 1
    assert votes.upvote(store, user, "arXiv:2608.00001v2").upvotes == 1
    assert votes.toggle_vote(store, user, "2608.00001") == votes.VoteResult("2608.00001", False, 0)
    assert votes.toggle_vote(store, user, "2608.00001").upvoted
    paper = store.get_paper("2608.00001")
    assert paper is not None
    assert votes.voted_ids(store, user, [paper]) == {"2608.00001"}
    assert votes.withdraw_vote(store, user, "2608.00001").upvotes == 0
    with pytest.raises(LookupError, match="no paper '2608.99999'"):
        votes.upvote(store, user, "2608.99999")
    with pytest.raises(LookupError, match="'bogus' is not an arXiv id"):
        votes.upvote(store, user, "bogus")


def test_submit_a_stored_paper(store: Store) -> None:
    user = accounts.sign_up(store, "s@example.org", "long enough", "Sam")
    paper = votes.submit_paper(store, user, "2503.00002", today=date(2026, 8, 20))
    assert (paper.daily_date, paper.submitted_by) == ("2026-08-20", "Sam")
    assert paper.change_sequence == store.max_change_sequence()  # the index will see it
    with pytest.raises(ValueError, match="already on the daily list of 2026-08-20"):
        votes.submit_paper(store, user, "2503.00002", today=date(2026, 8, 20))
    # on a list already: submitting it again later puts it on that day's list
    moved = votes.submit_paper(store, user, "2503.00002", today=date(2026, 8, 21))
    assert moved.daily_date == "2026-08-21"
    with pytest.raises(LookupError, match="no paper '2503.99999'.*turned off"):
        votes.submit_paper(store, user, "2503.99999")


def test_submit_without_network_says_so_plainly(store: Store) -> None:
    user = accounts.sign_up(store, "o@example.org", "long enough", "Oli")
    with socket.socket() as probe:  # a port nobody listens on: the look-up fails
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for api in (f"http://127.0.0.1:{port}/api/query", "http://arxiv.invalid/api/query"):
        with pytest.raises(LookupError) as refused:
            votes.submit_paper(store, user, "2503.99999", api)
        message = str(refused.value)
        assert "could not be reached" in message and "2503.99999" in message
        assert "Errno" not in message and "Name or service" not in message


class _RecordedArxiv(BaseHTTPRequestHandler):
    """Replays the recorded arXiv API answer for the fixture paper, an empty feed otherwise."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        name = "2503.15879.xml" if "id_list=2503.15879" in self.path else "empty.xml"
        body = (FIXTURES / "arxiv_api" / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_submit_fetches_an_unknown_paper_from_arxiv(store: Store) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordedArxiv)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api = f"http://127.0.0.1:{server.server_address[1]}/api/query"
    try:
        user = accounts.sign_up(store, "f@example.org", "long enough", "Fay")
        paper = votes.submit_paper(store, user, "2503.15879", api, today=date(2026, 8, 20))
        with pytest.raises(LookupError, match="arXiv has no paper '2503.00404'"):
            votes.submit_paper(store, user, "2503.00404", api)
    finally:
        server.shutdown()
    assert paper.title.startswith("Typed-RAG")
    assert paper.daily_date == "2026-08-20" and "cs.CL" in paper.categories
    assert store.get_paper("2503.15879") is not None
