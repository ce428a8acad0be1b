"""A local stand-in for the bioRxiv/medRxiv details API and arXiv's listing feeds.

The details API answers as its documentation describes (https://api.biorxiv.org,
"Content detail"; see ``fixtures/biorxiv/README.md``): ``/details/{server}/{from}/
{until}/{cursor}`` with a ``messages`` block and at most 100 records, ordered by date
then DOI, the counts partly as strings as the service writes them; an empty window is
``"no posts found"``. The listing feeds are the RSS files in ``fixtures/arxiv_rss``
served at ``/rss/{archive}``. Faults are scripted per request key (``(server, cursor)``
or ``"rss:<archive>"``): ``500``, ``malformed`` JSON, ``stall`` (wait for ``release()``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from replay_server import ReplayControls, ReplayHandler, serve_on_loopback

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGE_SIZE = 100
SUBJECTS = ("neuroscience", "cancer biology", "genomics", "cell biology", "bioinformatics")


def documented_records() -> list[dict[str, Any]]:
    """The three hand-written records of ``fixtures/biorxiv``."""
    page = json.loads((FIXTURES / "biorxiv" / "details_2026-07-01_2026-07-02_0.json").read_text())
    return [dict(record) for record in page["collection"]]


def make_record(
    number: int,
    day: str,
    server: str = "bioRxiv",
    version: int = 1,
    category: str | None = None,
    title: str | None = None,
    abstract: str | None = None,
) -> dict[str, Any]:
    """One record in the API's format (an invented preprint numbered ``number``)."""
    posted = date.fromisoformat(day) - timedelta(days=2)
    doi = f"10.1101/{posted.isoformat().replace('-', '.')}.{600000 + number}"
    return {
        "doi": doi,
        "title": title or f"Preprint {number}: circuit dynamics of sample {number}",
        "authors": f"Author{number}, A.; Coauthor, B. C.",
        "author_corresponding": f"A. Author{number}",
        "author_corresponding_institution": "University of Somewhere",
        "date": day,
        "version": str(version),
        "type": "new results",
        "license": "cc_by",
        "category": category or SUBJECTS[number % len(SUBJECTS)],
        "jatsxml": (
            f"https://www.biorxiv.org/content/early/{day.replace('-', '/')}/{doi[8:]}.source.xml"
        ),
        "abstract": abstract or f"We study sample {number} with imaging and sequencing.",
        "published": "NA",
        "server": server,
    }


@dataclass
class PreprintReplay(ReplayControls):
    """What the server serves; its faults are keyed by ``(server, cursor)`` or
    ``"rss:<archive>"``."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # server -> records
    feeds: dict[str, bytes] = field(default_factory=dict)  # archive -> RSS body
    # the order is the service's to choose: newest first puts a paper's latest version on
    # an earlier page than its first
    newest_first: bool = False

    def details(self, server: str, first: str, last: str, cursor: int) -> bytes:
        chosen = sorted(
            (r for r in self.records.get(server, []) if first <= r["date"] <= last),
            key=lambda record: (record["date"], record["doi"], int(record["version"])),
            reverse=self.newest_first,
        )
        if not chosen:
            return json.dumps(
                {"messages": [{"status": "no posts found"}], "collection": []}
            ).encode()
        page = chosen[cursor : cursor + PAGE_SIZE]
        message = {
            "status": "ok",
            "interval": f"{first}:{last}",
            "cursor": cursor,
            "count": len(page),
            "count_new_papers": str(sum(r["version"] == "1" for r in chosen)),
            "total": str(len(chosen)),
        }
        return json.dumps({"messages": [message], "collection": page}).encode()


class _Handler(ReplayHandler):
    error_page = b"<html><body><h1>500 Internal Server Error</h1></body></html>"

    def corrupt(self, body: bytes) -> bytes:
        return body[: len(body) - 7] + b"<br/>"  # the end of the JSON replaced by HTML

    def do_GET(self) -> None:  # noqa: N802
        replay = self.note_request()
        parts = self.path.strip("/").split("/")
        if len(parts) == 5 and parts[0] == "details" and parts[4].isdigit():
            _, server, first, last, cursor = parts
            key: Any = (server, int(cursor))
            body = replay.details(server, first, last, int(cursor))
            content_type = "application/json"
        elif len(parts) == 2 and parts[0] == "rss" and parts[1] in replay.feeds:
            key = f"rss:{parts[1]}"
            body = replay.feeds[parts[1]]
            content_type = "application/rss+xml"
        else:
            self.send_error(404)
            return
        self.answer(replay, key, body, content_type)


@contextmanager
def serve_preprints(replay: PreprintReplay) -> Iterator[str]:
    """Serve ``replay`` on a free loopback port; yields its base URL."""
    with serve_on_loopback(_Handler, replay, replay.release) as base:
        yield base
