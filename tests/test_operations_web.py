"""Health, readiness, metrics and request logs over real HTTP: an in-process server for
the checks, and ``paperfeed serve --workers 2`` in a subprocess for the multi-worker
metrics and the JSON log lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from sqlalchemy.engine import make_url

from http_clients import http_client, http_get
from paperfeed.config import Settings
from paperfeed.digest.sending import Mailer, deliver_due, queue_confirmation
from paperfeed.digest.subscribing import subscribe
from paperfeed.search.hidden import REFRESH_SECONDS
from paperfeed.store import Store, schema
from paperfeed.store.database import UpsertCounts
from paperfeed.store.loading import ingest_sources
from paperfeed.store.sync_runs import finish_run, start_run
from running_site import FIXTURES, XSS_ID, Site, free_port, load_site_corpus, serve

SOURCE = Path(__file__).resolve().parents[1] / "src"
PAPER_ROUTE = "/papers/{arxiv_id:path}"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> Samples:
    """Every sample of a scrape, parsed by prometheus_client's own parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _scrape(client: httpx.Client) -> Samples:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return _samples(answer.text)


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_health_and_readiness_of_a_running_site(site: Site) -> None:
    with site.client() as client:
        alive = client.get("/healthz")
        ready = client.get("/readyz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and body["not_ready"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["index"]["ok"]
    assert "sync" not in body["checks"]  # no schedule configured: sync age is not asked


def test_not_ready_without_an_index_or_with_a_stale_sync(
    paperfeed_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", "")
    monkeypatch.setenv("PAPERFEED_SYNC_INTERVAL_MINUTES", "60")
    monkeypatch.setenv("PAPERFEED_READY_MAX_SYNC_AGE_HOURS", "2")
    settings = Settings.from_environment()
    store = Store(settings.database_url)
    ingest_sources(store, [FIXTURES / "site_daily_papers.jsonl"], "daily-papers-flat")
    run = start_run(store, "daily-papers")
    finish_run(store, run, "ok", UpsertCounts(added=3))
    first_try = start_run(store, "arxiv")  # a source that never once succeeded...
    finish_run(store, first_try, "failed")
    with store.engine.begin() as connection:  # both ran ten hours ago
        connection.execute(
            update(schema.sync_runs).values(
                started_at=time.time() - 36_000, finished_at=time.time() - 35_990
            )
        )
    finish_run(store, start_run(store, "arxiv"), "failed")  # ...and failed again just now
    with serve(settings) as url, http_client(base_url=url) as client:
        alive = client.get("/healthz")
        ready = client.get("/readyz")
    store.close()
    assert alive.status_code == 200  # alive all the same: a restart would not help
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not ready" and body["not_ready"] == ["index", "sync"]
    assert "run paperfeed index" in body["checks"]["index"]["detail"]
    detail = body["checks"]["sync"]["detail"]
    assert detail.startswith("sync is stale for arxiv, daily-papers;"), detail
    assert "arxiv never (first tried 10.0 h ago)" in detail
    assert "daily-papers 10.0 h ago" in detail
    assert "limit 2 h" in body["checks"]["sync"]["detail"]


@pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_metrics_count_requests_by_route_and_read_the_store(site: Site) -> None:
    with site.client() as client:
        before = _scrape(client)
        for arxiv_id in ("2608.00677", XSS_ID, "2608.00677"):
            assert client.get(f"/papers/{arxiv_id}").status_code == 200
        assert client.get("/no/such/page/12345").status_code == 404
        brewed = client.request("PROPFIND", "/no/such/dav")
        assert brewed.status_code >= 400, brewed.text
        assert client.get("/search", params={"q": f"agent red teaming {time.time()}"}).is_success
        run = start_run(site.store, "arxiv")
        finish_run(site.store, run, "ok", UpsertCounts(added=5))
        finish_run(site.store, start_run(site.store, "arxiv"), "failed", detail="boom")
        unfinished = start_run(site.store, "daily-papers")  # going on as the scrape comes
        queue_confirmation(site.store, site.settings, subscribe(site.store, "o@example.org"))
        refused = replace(site.settings, smtp_host="127.0.0.1", smtp_port=free_port())
        delivery = deliver_due(site.store, Mailer(refused))
        after = _scrape(client)
    assert delivery.failed == 1
    name = "paperfeed_http_requests_total"
    paper = {"method": "GET", "route": PAPER_ROUTE, "status": "200"}
    assert _value(after, name, **paper) - _value(before, name, **paper) == 3
    junk = {"method": "GET", "route": "unmatched", "status": "404"}
    assert _value(after, name, **junk) - _value(before, name, **junk) == 1
    # bounded cardinality: no raw path ever becomes a label
    routes = {dict(labels).get("route", "") for (_, labels) in after}
    assert not any("2608." in route or "12345" in route for route in routes)
    methods = {dict(labels).get("method", "") for (_, labels) in after}
    assert "PROPFIND" not in methods and "other" in methods, (brewed.status_code, brewed.text[:300])
    latency = "paperfeed_http_request_duration_seconds_count"
    assert _value(after, latency, method="GET", route=PAPER_ROUTE) >= 3
    stages = "paperfeed_search_stage_duration_seconds_count"
    for stage in ("filters", "candidates", "fusion"):
        assert _value(after, stages, stage=stage) > _value(before, stages, stage=stage), stage
    assert _value(after, "paperfeed_sync_runs_total", source="arxiv", status="ok") == 1
    assert _value(after, "paperfeed_sync_runs_total", source="arxiv", status="failed") == 1
    # a run going on is a gauge: counted as "running", the counter would drop when it ends
    assert _value(after, "paperfeed_sync_runs_in_progress", source="daily-papers") == 1
    assert not any(dict(labels).get("status") == "running" for (_, labels) in after)
    finish_run(site.store, unfinished, "ok")
    with site.client() as client:
        ended = _scrape(client)
    assert _value(ended, "paperfeed_sync_runs_total", source="daily-papers", status="ok") == 1
    assert ("paperfeed_sync_runs_in_progress", (("source", "daily-papers"),)) not in ended
    assert _value(after, "paperfeed_sync_papers_added_total", source="arxiv") == 5
    last = _value(after, "paperfeed_sync_last_success_timestamp_seconds", source="arxiv")
    assert abs(last - time.time()) < 120
    assert _value(after, "paperfeed_outbox_depth") == 1  # refused: waits for its retry
    assert _value(after, "paperfeed_outbox_send_failures_total") == 1
    papers = site.store.count_papers()
    assert _value(after, "paperfeed_store_papers") == papers
    assert _value(after, "paperfeed_index_papers") == papers
    assert _value(after, "paperfeed_index_vectors") == papers


def test_cached_pages_and_refused_bodies_count_under_their_route(site: Site) -> None:
    """Answers made before routing (the anonymous page cache, a HEAD of a cached page, a
    body over the limit) are counted and logged under the route, not as unmatched."""
    with site.client() as client:
        before = _scrape(client)
        for _ in range(3):  # the first renders, the next two come from the page cache
            assert client.get("/search", params={"q": "agent"}).status_code == 200
            assert client.get("/").status_code == 200
        assert client.head("/").status_code == 200
        refused = client.post(
            "/signin",
            content=b"x" * 200_000,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        after = _scrape(client)
    assert refused.status_code == 413

    def counted(**labels: str) -> float:
        name = "paperfeed_http_requests_total"
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert counted(method="GET", route="/search", status="200") == 3
    assert counted(method="GET", route="/", status="200") == 3
    assert counted(method="HEAD", route="/", status="200") == 1
    assert counted(method="POST", route="/signin", status="413") == 1
    assert counted(method="GET", route="unmatched", status="200") == 0


@pytest.fixture
def served_home(paperfeed_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A home with the site corpus indexed, for a ``paperfeed serve`` subprocess."""
    monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", "")
    settings = Settings.from_environment()
    folder = paperfeed_home.parent / "site"
    folder.mkdir()
    load_site_corpus(settings, folder).close()
    yield paperfeed_home


def test_two_workers_count_every_request_and_log_json_lines(
    served_home: Path, tmp_path: Path
) -> None:
    port = free_port()
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("PAPERFEED_")},
        "PAPERFEED_HOME": str(served_home),
        "PAPERFEED_EMBED_MODEL": "hashing",
        "PAPERFEED_ARXIV_API_URL": "",
        "PAPERFEED_LOG_FORMAT": "json",
        "PYTHONPATH": os.pathsep.join([str(SOURCE), os.environ.get("PYTHONPATH", "")]),
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as errors:
        server = subprocess.Popen(
            [sys.executable, "-m", "paperfeed.cli", "serve", "--workers", "2", "--port", str(port)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if http_get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        requests = 24
        for _ in range(requests):
            # a fresh connection each time: the kernel spreads them over both workers
            assert http_get(f"{base}/papers/2608.00677", timeout=30).status_code == 200
        paper = {"method": "GET", "route": PAPER_ROUTE, "status": "200"}
        for _ in range(6):
            # whichever worker answers the scrape, it sums both workers' counts
            with http_client(base_url=base, timeout=30) as client:
                samples = _scrape(client)
            assert _value(samples, "paperfeed_http_requests_total", **paper) == requests
        assert (served_home / "metrics").is_dir()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    every_line = log.read_text().splitlines()
    lines = [line for line in every_line if line.startswith("{")]
    # each request once, as JSON: no second copy by another handler (the MCP SDK put a
    # RichHandler on the root logger, and every request line came out twice)
    assert not [line for line in every_line if "request" in line and not line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    paper_lines = [entry for entry in entries if entry.get("route") == PAPER_ROUTE]
    assert len(paper_lines) == requests
    first = paper_lines[0]
    assert first["event"] == "request" and first["method"] == "GET" and first["status"] == 200
    assert isinstance(first["ms"], float) and first["level"] == "info"
    assert not any("2608.00677" in line for line in lines)  # routes, never raw paths


@pytest.mark.parametrize("trusted", ["127.0.0.1", ""])
def test_https_behind_a_trusted_proxy_marks_the_session_cookie_secure(
    paperfeed_home: Path, monkeypatch: pytest.MonkeyPatch, trusted: str
) -> None:
    monkeypatch.setenv("PAPERFEED_TRUSTED_PROXIES", trusted)
    settings = Settings.from_environment()
    Store(settings.database_url).close()
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with serve(settings) as url:
        # the sign-up form starts a session (its CSRF token) and so sets the cookie
        forwarded = http_get(f"{url}/signup", headers=proxied).headers.get("set-cookie", "")
        plain = http_get(f"{url}/signup").headers.get("set-cookie", "")
    assert "paperfeed_session=" in forwarded and "paperfeed_session=" in plain

    def attributes(cookie: str) -> set[str]:
        return {part.strip().lower() for part in cookie.split(";")[1:]}

    # the header counts only from a trusted proxy: anyone else could claim https
    assert ("secure" in attributes(forwarded)) == bool(trusted)
    assert "secure" not in attributes(plain)
    assert "httponly" in attributes(forwarded) and "samesite=lax" in attributes(forwarded)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_that_stops_answering_is_a_503_naming_it_and_metrics_go_on(
    site: Site, postgres_server: Any
) -> None:
    """PostgreSQL gone (every connection cut, none let in): /readyz answered 500 with a
    traceback in the log, /metrics 500, so the scrape lost every figure, in an outage, and
    every page "Internal Server Error"."""
    name = make_url(site.settings.database_url).database
    with site.client() as client:
        assert client.get("/readyz").status_code == 200
        before = _scrape(client)
        assert _value(before, "paperfeed_database_up") == 1
        postgres_server.psql(
            f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false; SELECT pg_terminate_backend"
            f"(pid) FROM pg_stat_activity WHERE datname = '{name}';"
        )
        time.sleep(REFRESH_SECONDS + 0.1)  # the hidden papers are due to be re-read too
        try:
            ready = client.get("/readyz")
            alive = client.get("/healthz")
            during = _scrape(client)
            api = client.get("/api/search", params={"q": "agent red teaming outage"})
            page = client.get("/search", params={"q": "agent red teaming outage"})
        finally:
            postgres_server.psql(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true;")
        assert client.get("/readyz").status_code == 200  # back once the database is
    assert alive.status_code == 200
    for answer in (api, page):  # unavailable for a moment, not an internal error
        assert answer.status_code == 503, answer.text[:300]
        assert answer.headers["retry-after"] == "10"
        assert "the database is not answering right now" in answer.text
    assert api.json()["detail"].startswith("the database is not answering")
    assert "<h1>Unavailable for a moment</h1>" in page.text  # not "Something went wrong"
    assert ready.status_code == 503, ready.text
    body = ready.json()
    assert body["not_ready"] == ["database"]
    assert body["checks"]["database"]["detail"].startswith("the database does not answer")
    assert _value(during, "paperfeed_database_up") == 0
    assert ("paperfeed_store_papers", ()) not in during  # left out, not a false 0
    readyz = {"method": "GET", "route": "/readyz", "status": "503"}
    counted = "paperfeed_http_requests_total"  # one registry per process: a difference
    assert _value(during, counted, **readyz) - _value(before, counted, **readyz) == 1
    assert _value(during, "paperfeed_index_papers") == site.store.count_papers()
