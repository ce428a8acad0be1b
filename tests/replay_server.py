"""A local stand-in for arXiv's OAI-PMH interface and a daily-papers site, in their wire formats.

The records are real: arXiv listings from ``shared/data/arxiv`` written out as
``ListRecords`` pages in the ``arXiv`` metadata format (as
https://oaipmh.arxiv.org/oai?verb=ListRecords&metadataPrefix=arXiv answers: header
with ``oai:arXiv.org:<id>``, datestamp and setSpec; ``<arXiv>`` metadata with id,
created, authors as keyname + forenames, title, categories, comments, license,
abstract), paged with resumption tokens; the daily-papers answers are the shared
``daily_papers_api.tar.gz`` day files, byte for byte. The crawl has no submission date,
so ``created`` is the day before the datestamp (a new submission, announced the next day).

Faults are scripted per page (or per day): ``503`` (with ``Retry-After``), ``500``,
an ``html`` error page, ``malformed`` XML, a ``truncated`` body, a connection ``cut``
mid-body, and ``stall`` (the answer waits until ``release()``), so a test can kill a
harvest at a known page.
"""

from __future__ import annotations

import gzip
import html
import json
import os
import tarfile
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

OAI_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ '
    'http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">\n'
)
LICENSE = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"


SOURCE = Path(__file__).resolve().parents[1] / "src"


def cli_environment(home: Path, daily_papers_url: str, **settings: str) -> dict[str, str]:
    """The environment of a ``paperfeed`` process run as a subprocess (this checkout's code
    first on its path) whose sync reads only the replayed daily-papers site at
    ``daily_papers_url``, without pauses; ``settings`` adds or overrides the rest."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SOURCE), os.environ.get("PYTHONPATH", "")]),
        "PAPERFEED_HOME": str(home),
        "PAPERFEED_DAILY_PAPERS_URL": daily_papers_url,
        "PAPERFEED_ARXIV_OAI_URL": "",
        "PAPERFEED_ARXIV_API_URL": "",
        "PAPERFEED_SYNC_DELAY_SECONDS": "0",
        **settings,
    }


def load_arxiv_records(
    path: Path, days: Iterable[str], limit: int | None = None
) -> list[dict[str, Any]]:
    """Records of the shared arXiv crawl first listed on ``days`` (with categories)."""
    wanted = set(days)
    found = []
    with gzip.open(path) as stream:
        for line in stream:
            record = json.loads(line)
            if record["first_listed"] in wanted and record.get("categories"):
                found.append(record)
                if limit is not None and len(found) >= limit:
                    break
    return found


def load_daily_days(path: Path, days: Iterable[str]) -> dict[str, bytes]:
    """The raw day files of the shared ``daily_papers_api.tar.gz`` for ``days``."""
    wanted = set(days)
    found = {}
    with tarfile.open(path, "r|*") as archive:
        for member in archive:
            name = Path(member.name).name
            if member.isfile() and name.endswith(".json") and name[:-5] in wanted:
                stream = archive.extractfile(member)
                assert stream is not None
                found[name[:-5]] = stream.read()
    return found


def _author_xml(name: str) -> str:
    forenames, _, keyname = name.strip().rpartition(" ")
    parts = f"<keyname>{html.escape(keyname)}</keyname>"
    if forenames:
        parts += f"<forenames>{html.escape(forenames)}</forenames>"
    return f"<author>{parts}</author>"


def record_xml(record: dict[str, Any], datestamp: str | None = None) -> str:
    """One ``<record>`` in the arXiv format for a record of the shared crawl."""
    listed = datestamp or record["first_listed"]
    created = (date.fromisoformat(listed) - timedelta(days=1)).isoformat()
    archives = sorted({category.split(".")[0] for category in record["categories"]})
    specs = "".join(f"<setSpec>{archive}</setSpec>" for archive in archives)
    parts = [
        f"<id>{record['id']}</id>",
        f"<created>{created}</created>",
    ]
    if record.get("updated"):
        parts.append(f"<updated>{record['updated']}</updated>")
    parts.append(
        "<authors>" + "".join(_author_xml(name) for name in record["authors"]) + "</authors>"
    )
    parts.append(f"<title>{html.escape(record['title'])}</title>")
    parts.append(f"<categories>{' '.join(record['categories'])}</categories>")
    if record.get("comment"):
        parts.append(f"<comments>{html.escape(record['comment'])}</comments>")
    for tag in ("journal-ref", "doi"):
        if record.get(tag):
            parts.append(f"<{tag}>{html.escape(record[tag])}</{tag}>")
    parts.append(f"<license>{LICENSE}</license>")
    parts.append(f"<abstract>{html.escape(record['abstract'])}</abstract>")
    return (
        f"<record><header><identifier>oai:arXiv.org:{record['id']}</identifier>"
        f"<datestamp>{listed}</datestamp>{specs}</header><metadata>"
        '<arXiv xmlns="http://arxiv.org/OAI/arXiv/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://arxiv.org/OAI/arXiv/ http://arxiv.org/OAI/arXiv.xsd">'
        + "".join(parts)
        + "</arXiv></metadata></record>\n"
    )


def deleted_xml(arxiv_id: str, datestamp: str) -> str:
    return (
        f'<record><header status="deleted"><identifier>oai:arXiv.org:{arxiv_id}</identifier>'
        f"<datestamp>{datestamp}</datestamp><setSpec>cs</setSpec></header></record>\n"
    )


@dataclass
class ReplayControls:
    """What a replay server was asked, and the faults it plays: each key's actions in
    turn (see ``ReplayHandler``); a ``stall`` holds its answer until ``release``."""

    faults: dict[Any, list[str]] = field(default_factory=dict)  # key -> actions
    retry_after: str = "1"
    requests: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    stalled: threading.Event = field(default_factory=threading.Event)
    _release: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self._release.set()

    def fault(self, key: Any) -> str | None:
        actions = self.faults.get(key)
        return actions.pop(0) if actions else None


@dataclass
class Replay(ReplayControls):
    """What the replay server serves (OAI-PMH pages, daily-papers days); its faults are
    keyed by page or day."""

    records: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 10
    deleted: list[tuple[str, str]] = field(default_factory=list)  # (id, datestamp)
    extra_xml: dict[int, str] = field(default_factory=dict)  # page -> raw records to add
    days: dict[str, bytes] = field(default_factory=dict)
    response_date: str = "2026-07-02T20:00:00Z"
    # the OAI error code the next request with a token gets (a server that restarted and
    # forgot its tokens: "badResumptionToken", or "badArgument" as some servers answer)
    forget_tokens_with: str | None = None

    def entries(self, set_spec: str | None, first: str | None, last: str | None) -> list[str]:
        """The window's records as XML, in a fixed order (deleted ones last)."""
        chosen = []
        for record in self.records:
            stamp = record.get("datestamp") or record["first_listed"]
            if set_spec and not any(
                category.split(".")[0] == set_spec for category in record["categories"]
            ):
                continue
            if (first and stamp < first) or (last and stamp > last):
                continue
            chosen.append(record_xml(record, stamp))
        for arxiv_id, stamp in self.deleted:
            if (not first or stamp >= first) and (not last or stamp <= last):
                chosen.append(deleted_xml(arxiv_id, stamp))
        return chosen


def _error(code: str, message: str, response_date: str) -> bytes:
    return (
        OAI_HEAD
        + f"<responseDate>{response_date}</responseDate>"
        + '<request verb="ListRecords">https://oaipmh.arxiv.org/oai</request>'
        + f'<error code="{code}">{message}</error></OAI-PMH>\n'
    ).encode()


def list_records(replay: Replay, query: dict[str, str]) -> tuple[int, bytes]:
    """The page a ``ListRecords`` request asks for (and the page number, 1-based)."""
    token = query.get("resumptionToken")
    if token is not None and replay.forget_tokens_with:
        code, replay.forget_tokens_with = replay.forget_tokens_with, None
        return 0, _error(code, f"unknown token {token}", replay.response_date)
    if token is not None:
        try:
            set_spec, first, last, offset_text = token.split("|")
            offset = int(offset_text)
        except ValueError:
            return 0, _error("badResumptionToken", f"unknown token {token}", replay.response_date)
    else:
        if query.get("metadataPrefix") != "arXiv":
            return 0, _error("cannotDisseminateFormat", "only arXiv here", replay.response_date)
        set_spec, first, last, offset = (
            query.get("set", ""),
            query.get("from", ""),
            query.get("until", ""),
            0,
        )
    entries = replay.entries(set_spec, first, last)
    page = offset // replay.page_size + 1
    if not entries:
        return page, _error("noRecordsMatch", "no records in this window", replay.response_date)
    chunk = entries[offset : offset + replay.page_size] + [replay.extra_xml.get(page, "")]
    following = offset + replay.page_size
    if following < len(entries):
        next_token = html.escape(f"{set_spec}|{first}|{last}|{following}")
        resumption = (
            f'<resumptionToken cursor="{offset}" completeListSize="{len(entries)}">'
            f"{next_token}</resumptionToken>"
        )
    else:
        resumption = f'<resumptionToken cursor="{offset}" completeListSize="{len(entries)}"/>'
    body = (
        OAI_HEAD
        + f"<responseDate>{replay.response_date}</responseDate>\n"
        + '<request verb="ListRecords" metadataPrefix="arXiv">https://oaipmh.arxiv.org/oai</request>\n'
        + "<ListRecords>\n"
        + "".join(chunk)
        + resumption
        + "\n</ListRecords>\n</OAI-PMH>\n"
    )
    return page, body.encode()


HTML_ERROR = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>The proxy could not reach the server.</p></body></html>"
)


class ReplayHandler(BaseHTTPRequestHandler):
    """Answers a request with its replay's next fault for the key applied: ``stall``
    (answers once released), ``503`` (with Retry-After), ``404``, ``500`` or ``html`` (an HTML error
    page, status 500 or 200), ``malformed`` (``corrupt``), ``truncated`` (half the body),
    ``cut`` (the connection closed half-way through the body)."""

    server: LoopbackServer
    error_page = HTML_ERROR

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def note_request(self) -> Any:
        """The replay state, with this request's path and User-Agent recorded on it."""
        replay = self.server.state
        replay.requests.append(self.path)
        replay.user_agents.append(self.headers.get("User-Agent", ""))
        return replay

    def corrupt(self, body: bytes) -> bytes:
        """``body`` made unparseable in its own format (the ``malformed`` fault)."""
        raise NotImplementedError

    def answer(self, replay: ReplayControls, key: Any, body: bytes, content_type: str) -> None:
        action = replay.fault(key)
        if action == "stall":
            replay.stalled.set()
            replay._release.wait(120)
        if action == "503":
            self.send_response(503)
            self.send_header("Retry-After", replay.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if action == "404":  # a site with nothing at this address (or for this day)
            payload = b'{"error":"Not Found"}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if action in ("500", "html"):
            payload = self.error_page
            self.send_response(500 if action == "500" else 200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if action == "malformed":
            body = self.corrupt(body)
        if action == "truncated":
            body = body[: len(body) // 2]
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if action == "cut":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class _Handler(ReplayHandler):
    def corrupt(self, body: bytes) -> bytes:
        return body.replace(b"</title>", b"</titel>", 1)

    def do_GET(self) -> None:  # noqa: N802
        replay = self.note_request()
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/oai" and query.get("verb") == "ListRecords":
            key, body = list_records(replay, query)
            content_type = "text/xml; charset=utf-8"
        elif url.path == "/api/daily_papers":
            key = query.get("date", "")
            body = replay.days.get(key, b"[]")
            content_type = "application/json"
        else:
            self.send_error(404)
            return
        self.answer(replay, key, body, content_type)


class LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP server on loopback; its handler reads ``self.server.state``."""

    daemon_threads = True
    state: Any


@contextmanager
def serve_on_loopback(
    handler: type[BaseHTTPRequestHandler], state: Any, on_stop: Callable[[], None]
) -> Iterator[str]:
    """Serve ``handler`` over ``state`` on a free loopback port; yields its base URL.
    ``on_stop`` runs first at the end (it frees answers a test left waiting)."""
    server = LoopbackServer(("127.0.0.1", 0), handler)
    server.state = state
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        on_stop()
        server.shutdown()
        server.server_close()


@contextmanager
def serve_replay(replay: Replay) -> Iterator[str]:
    """Serve ``replay`` on a free loopback port; yields the base URL (OAI at ``/oai``)."""
    with serve_on_loopback(_Handler, replay, replay.release) as base:
        yield base
