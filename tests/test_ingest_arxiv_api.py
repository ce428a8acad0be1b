"""The arXiv API client, driven over real HTTP against a local server replaying fixtures."""

from __future__ import annotations

import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from paperfeed.ingest.arxiv_api import fetch_arxiv_paper, parse_arxiv_atom
from paperfeed.ingest.errors import IngestError

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv_api"
PAPER_ID = "2503.15879"
ERROR_ID = "2503.12345"  # the server answers with the API's error entry (for 1234.12345v)
DOCTYPE_ID = "2503.00001"  # ... with a "billion laughs" document
MALFORMED_ID = "2503.00002"  # ... with cut-off XML
OTHER_PAPER_ID = "2503.00003"  # ... with the entry of PAPER_ID
SLOW_ID = "2503.00004"  # ... only after a second

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE feed [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2503.00001v1</id>
<title>&lol3;</title></entry></feed>
"""


class _ArxivReplay(BaseHTTPRequestHandler):
    """``/api/query`` answers from the fixtures by ``id_list``; any other path is a 503."""

    requests: list[tuple[str, dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        self.requests.append((self.headers.get("User-Agent", ""), query))
        if url.path != "/api/query":
            self._answer(503, b"Service Unavailable")
            return
        identifier = query.get("id_list", [""])[0]
        if identifier == SLOW_ID:
            time.sleep(1.0)
        if identifier == DOCTYPE_ID:
            body = BILLION_LAUGHS
        elif identifier == MALFORMED_ID:
            body = (FIXTURES / f"{PAPER_ID}.xml").read_bytes()[:900]
        elif identifier == OTHER_PAPER_ID:
            body = (FIXTURES / f"{PAPER_ID}.xml").read_bytes()
        elif identifier == ERROR_ID:
            body = (FIXTURES / "error.xml").read_bytes()
        elif (FIXTURES / f"{identifier}.xml").is_file():
            body = (FIXTURES / f"{identifier}.xml").read_bytes()
        else:
            body = (FIXTURES / "empty.xml").read_bytes()
        self._answer(200, body)

    def _answer(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (the timeout test)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """The base URL of a local server replaying the arXiv API fixtures."""
    _ArxivReplay.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ArxivReplay)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    yield f"http://{host!s}:{port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_fetches_a_paper(server: str) -> None:
    paper = fetch_arxiv_paper(PAPER_ID, f"{server}/api/query")

    assert paper is not None
    assert paper.arxiv_id == PAPER_ID
    assert paper.title == (
        "Typed-RAG: Type-aware Multi-Aspect Decomposition for Non-Factoid\n  Question Answering"
    )
    assert paper.abstract is not None
    assert paper.abstract.startswith("  Non-factoid question-answering (NFQA) poses")
    assert "\\href{https://github.com/TeamNLP/Typed-RAG}" in paper.abstract  # raw text
    assert paper.authors == [
        "DongGeon Lee",
        "Ahjeong Park",
        "Hyeri Lee",
        "Hyeonseo Nam",
        "Yunho Maeng",
    ]
    assert paper.categories == ["cs.CL", "cs.IR"]
    assert paper.comment == "Accepted to NAACL 2025 SRW"
    assert paper.published == "2025-03-20"
    assert paper.doi is None
    assert paper.journal_ref is None
    assert paper.first_listed is None
    assert paper.sources == ["arxiv-api"]


def test_sends_the_normalised_id_one_result_and_a_user_agent(server: str) -> None:
    paper = fetch_arxiv_paper(f"arXiv:{PAPER_ID}v1", f"{server}/api/query")

    assert paper is not None and paper.arxiv_id == PAPER_ID
    assert _ArxivReplay.requests == [("paperfeed", {"id_list": [PAPER_ID], "max_results": ["1"]})]


def test_unknown_id_is_none(server: str) -> None:
    assert fetch_arxiv_paper("2503.99999", f"{server}/api/query") is None


def test_bad_id_is_refused_before_any_request(server: str) -> None:
    with pytest.raises(IngestError, match="bad arXiv id 'not-an-id'"):
        fetch_arxiv_paper("not-an-id", f"{server}/api/query")
    assert _ArxivReplay.requests == []


def test_http_error_names_url_and_status(server: str) -> None:
    url = f"{server}/unavailable?id_list={PAPER_ID}&max_results=1"
    with pytest.raises(IngestError) as caught:
        fetch_arxiv_paper(PAPER_ID, f"{server}/unavailable")
    assert str(caught.value) == f"cannot fetch {url}: HTTP 503 Service Unavailable"


def test_connection_refused_names_url() -> None:
    api_url = f"http://127.0.0.1:{_closed_port()}/api/query"
    with pytest.raises(IngestError) as caught:
        fetch_arxiv_paper(PAPER_ID, api_url)
    message = str(caught.value)
    assert message.startswith(f"cannot fetch {api_url}?id_list={PAPER_ID}&max_results=1: ")
    assert "refused" in message.lower()


def test_timeout_names_url(server: str) -> None:
    with pytest.raises(IngestError, match=r"cannot fetch .*id_list=2503\.00004.*timed out"):
        fetch_arxiv_paper(SLOW_ID, f"{server}/api/query", timeout=0.2)


def test_api_error_entry_is_an_error(server: str) -> None:
    with pytest.raises(IngestError, match="arXiv API error: incorrect id format for 1234.12345v"):
        fetch_arxiv_paper(ERROR_ID, f"{server}/api/query")


def test_doctype_and_entities_are_refused(server: str) -> None:
    with pytest.raises(IngestError, match=r"id_list=2503\.00001.*DOCTYPE or ENTITY, refused"):
        fetch_arxiv_paper(DOCTYPE_ID, f"{server}/api/query")


def test_malformed_xml_is_an_error(server: str) -> None:
    with pytest.raises(IngestError, match=r"id_list=2503\.00002.*not well-formed XML"):
        fetch_arxiv_paper(MALFORMED_ID, f"{server}/api/query")


def test_an_answer_for_another_paper_is_an_error(server: str) -> None:
    with pytest.raises(IngestError, match="asked for 2503.00003, the API answered 2503.15879"):
        fetch_arxiv_paper(OTHER_PAPER_ID, f"{server}/api/query")


def test_parse_empty_feed() -> None:
    assert parse_arxiv_atom((FIXTURES / "empty.xml").read_bytes()) == []


def _feed(entry: str) -> bytes:
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">'
        f"<entry>{entry}</entry></feed>"
    ).encode()


def test_parse_primary_category_first_doi_and_journal_ref() -> None:
    (paper,) = parse_arxiv_atom(
        _feed(
            "<id>http://arxiv.org/abs/hep-th/9901001v2</id><title>T</title>"
            "<published>1999-01-01T00:00:00Z</published>"
            '<arxiv:primary_category term="hep-th"/>'
            '<category term="gr-qc"/><category term="hep-th"/><category term="gr-qc"/>'
            "<arxiv:doi>10.1000/xyz</arxiv:doi><arxiv:journal_ref>J. 1 (1999)</arxiv:journal_ref>"
        )
    )
    assert paper.arxiv_id == "hep-th/9901001"
    assert paper.categories == ["hep-th", "gr-qc"]
    assert paper.doi == "10.1000/xyz"
    assert paper.journal_ref == "J. 1 (1999)"
    assert paper.published == "1999-01-01"
    assert paper.abstract is None and paper.comment is None and paper.authors == []


def test_parse_skips_an_entry_without_id() -> None:
    assert parse_arxiv_atom(_feed("<title>Error</title>")) == []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>', "DOCTYPE or ENTITY, refused"),
        (b"<feed", "not well-formed XML"),
        (b"<rss/>", "not an Atom feed"),
        ("<x/>".encode("utf-16"), "not UTF-8"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><x/>'.encode("utf-16-le"), "holds NUL bytes"),
        (_feed("<id>http://arxiv.org/abs/nonsense</id>"), "bad id 'http://arxiv.org/abs/nonsense'"),
        (
            _feed("<id>2401.00165</id><published>yesterday</published>"),
            "'published' must be a date like 2025-03-20T06:04:12Z, got 'yesterday'",
        ),
        (
            _feed("<id>2401.00165</id><published>2026-02-30T06:04:12Z</published>"),
            "'published' must be a date like 2025-03-20T06:04:12Z, got '2026-02-30T06:04:12Z'",
        ),
    ],
)
def test_parse_refuses(document: bytes, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        parse_arxiv_atom(document)


@pytest.mark.parametrize("mode", ["drip-body", "drip-headers"])
def test_a_dripped_answer_times_out_at_the_deadline(mode: str) -> None:
    """A byte a second keeps every read alive: only a total deadline ends it."""
    from hostile_server import Hostile, serve_hostile

    with serve_hostile(Hostile(mode)) as base:
        started = time.monotonic()
        with pytest.raises(IngestError, match=r"cannot fetch .*timed out after 1.5 s"):
            fetch_arxiv_paper("2503.00001", f"{base}/api/query", timeout=1.5)
        assert time.monotonic() - started < 4


def test_a_redirect_to_another_host_is_refused() -> None:
    from hostile_server import Hostile, serve_hostile

    hostile = Hostile("redirect")
    with serve_hostile(hostile) as base:
        port = base.rsplit(":", 1)[1]
        hostile.redirect_to = f"http://localhost:{port}/elsewhere/query"
        with pytest.raises(IngestError, match="redirects to another host"):
            fetch_arxiv_paper("2503.00001", f"{base}/api/query", timeout=5)
    assert not any(request.startswith("localhost") for request in hostile.requests)
