"""Accounts as a library: sign-up, sign-in, tokens, votes, submissions, rate limits."""

from __future__ import annotations

import socket
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from paperfeed import accounts
from paperfeed.models import Paper
from paperfeed.store import Store
from paperfeed.store.accounts import find_user_by_email

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


def test_sign_up_then_sign_in(store: Store) -> None:
    user = accounts.sign_up(store, "  Ada@Example.ORG ", "correct horse", "Ada Lovelace")
    assert (user.email, user.name) == ("ada@example.org", "Ada Lovelace")
    assert user.password_hash.startswith("$argon2id$")  # never the password itself
    assert accounts.authenticate(store, "ADA@example.org", "correct horse") == user
    assert accounts.authenticate(store, "ada@example.org", "wrong horse") is None
    assert accounts.authenticate(store, "nobody@example.org", "correct horse") is None
    with pytest.raises(accounts.DuplicateEmailError, match="ada@example.org"):
        accounts.sign_up(store, "ada@example.org", "another password")


@pytest.mark.parametrize(
    ("email", "password", "name", "message"),
    [
        ("no-at-sign", "long enough", "", "email 'no-at-sign' is not an email address"),
        ("a@b.org\r\nBcc: x@y.org", "long enough", "", "line break"),
        ("a@b.org", "short", "", "at least 8"),
        ("a@b.org", "long enough", "Eve\nSubject: hi", "name 'Eve\\\\nSubject: hi'"),
    ],
)
def test_bad_sign_up_names_the_value(
    store: Store, email: str, password: str, name: str, message: str
) -> None:
    with pytest.raises(accounts.AccountError, match=message):
        accounts.sign_up(store, email, password, name)
    assert find_user_by_email(store, "a@b.org") is None


def test_api_tokens_are_stored_hashed(store: Store) -> None:
    user = accounts.sign_up(store, "t@example.org", "long enough")
    token = accounts.create_api_token(store, user, "script")
    assert token.startswith("pf_") and len(token) > 40
    assert accounts.user_for_token(store, token) == user
    assert accounts.user_for_token(store, token + "x") is None
    assert accounts.user_for_token(store, "not-a-token") is None


def test_votes_toggle_and_count_once(store: Store) -> None:
    user = accounts.sign_up(store, "v@example.org", "long enough")
    assert accounts.upvote(store, user, "2608.00001").upvotes == 1
    assert accounts.upvote(store, user, "arXiv:2608.00001v2").upvotes == 1
    assert accounts.toggle_vote(store, user, "2608.00001") == accounts.VoteResult(
        "2608.00001", False, 0
    )
    assert accounts.toggle_vote(store, user, "2608.00001").upvoted
    paper = store.get_paper("2608.00001")
    assert paper is not None
    assert accounts.voted_ids(store, user, [paper]) == {"2608.00001"}
    assert accounts.withdraw_vote(store, user, "2608.00001").upvotes == 0
    with pytest.raises(LookupError, match="no paper '2608.99999'"):
        accounts.upvote(store, user, "2608.99999")
    with pytest.raises(LookupError, match="'bogus' is not an arXiv id"):
        accounts.upvote(store, user, "bogus")


def test_rate_limit_counts_within_the_window(store: Store) -> None:
    for _ in range(3):
        accounts.check_rate(store, "signin:client:1.2.3.4", limit=3, window_seconds=60)
    with pytest.raises(accounts.RateLimitedError, match="3 per 1 minutes") as raised:
        accounts.check_rate(store, "signin:client:1.2.3.4", limit=3, window_seconds=60)
    assert raised.value.retry_after == 60
    accounts.check_rate(store, "signin:client:5.6.7.8", limit=3, window_seconds=60)


def test_submit_a_stored_paper(store: Store) -> None:
    user = accounts.sign_up(store, "s@example.org", "long enough", "Sam")
    paper = accounts.submit_paper(store, user, "2503.00002", today=date(2026, 8, 20))
    assert (paper.daily_date, paper.submitted_by) == ("2026-08-20", "Sam")
    assert paper.change_sequence == store.max_change_sequence()  # the index will see it
    with pytest.raises(ValueError, match="already on the daily list of 2026-08-20"):
        accounts.submit_paper(store, user, "2503.00002", today=date(2026, 8, 20))
    # on a list already: submitting it again later puts it on that day's list
    moved = accounts.submit_paper(store, user, "2503.00002", today=date(2026, 8, 21))
    assert moved.daily_date == "2026-08-21"
    with pytest.raises(LookupError, match="no paper '2503.99999'.*turned off"):
        accounts.submit_paper(store, user, "2503.99999")


def test_submit_without_network_says_so_plainly(store: Store) -> None:
    user = accounts.sign_up(store, "o@example.org", "long enough", "Oli")
    with socket.socket() as probe:  # a port nobody listens on: the look-up fails
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for api in (f"http://127.0.0.1:{port}/api/query", "http://arxiv.invalid/api/query"):
        with pytest.raises(LookupError) as refused:
            accounts.submit_paper(store, user, "2503.99999", api)
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
        paper = accounts.submit_paper(store, user, "2503.15879", api, today=date(2026, 8, 20))
        with pytest.raises(LookupError, match="arXiv has no paper '2503.00404'"):
            accounts.submit_paper(store, user, "2503.00404", api)
    finally:
        server.shutdown()
    assert paper.title.startswith("Typed-RAG")
    assert paper.daily_date == "2026-08-20" and "cs.CL" in paper.categories
    assert store.get_paper("2503.15879") is not None
