"""Two ``paperfeed serve`` replicas over one PostgreSQL, each with its own index folder.

Real processes, real HTTP, a real PostgreSQL server: what one replica writes the other
reads at once; papers indexed by one reach the other's search at its next index update
without re-embedding; one replica runs the digest scheduler, and the other takes over
when that one is killed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from account_helpers import sign_up
from http_clients import http_client, http_get
from paperfeed.config import Settings
from running_site import ARXIV_ONLY_ID, LATEST_DAY, csrf_of, free_port, load_site_corpus

pytestmark = pytest.mark.postgres
HOLDER_LINE = "digests go out at 7:00"
STANDBY_LINE = "another replica holds the scheduler lock"


@dataclass
class Replica:
    name: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    url: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the server and its workers (a crash: no cleanup runs)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def _cli(env: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "paperfeed.cli", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _start(name: str, env: dict[str, str], folder: Path) -> Replica:
    port = free_port()
    log = folder / f"{name}.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "paperfeed.cli", "serve", "--port", str(port)],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killpg takes the workers too
        )
    return Replica(name, env, process, log, f"http://127.0.0.1:{port}")


def _wait_until_answering(replica: Replica) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if http_get(replica.url + "/", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert replica.process.poll() is None, replica.output()
        assert time.monotonic() < deadline, f"{replica.name} did not answer: {replica.output()}"
        time.sleep(0.2)


def _wait_for(predicate: object, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, message
        time.sleep(0.2)


def _advisory_holders(url: str) -> list[int]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        pids = connection.scalars(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        ).all()
    engine.dispose()
    return list(pids)


@pytest.fixture
def replicas(
    postgres_url: str, paperfeed_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Replica, Replica, str]]:
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", postgres_url)
    monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", "")
    # a load balancer sends a visitor to any replica: all must sign with one key
    monkeypatch.setenv("PAPERFEED_SECRET_KEY", "one-secret-shared-by-every-replica-0123456789")
    monkeypatch.setenv("PAPERFEED_DIGEST_HOUR", "7")
    folder = paperfeed_home.parent
    (folder / "corpus").mkdir()
    load_site_corpus(Settings.from_environment(), folder / "corpus").close()  # replica a's index
    env_a = os.environ.copy()
    env_b = env_a | {"PAPERFEED_HOME": str(folder / "replica-b")}
    # replica b's first index: the vectors are in the database already, nothing is embedded
    assert "embedded 0;" in _cli(env_b, "index", "--quiet")
    started = [_start("a", env_a, folder), _start("b", env_b, folder)]
    try:
        for replica in started:
            _wait_until_answering(replica)
        yield started[0], started[1], postgres_url
    finally:
        for replica in started:
            if replica.process.poll() is None:
                os.killpg(replica.process.pid, signal.SIGTERM)
                replica.process.wait(timeout=30)


def test_writes_on_one_replica_are_read_on_the_other_at_once(
    replicas: tuple[Replica, Replica, str],
) -> None:
    a, b, _ = replicas
    paper = "2608.19880"
    # an anonymous visitor warms b's page cache before anything changes
    anonymous_before = http_get(f"{b.url}/api/daily_papers", params={"date": LATEST_DAY})
    with http_client(base_url=a.url) as on_a, http_client(base_url=b.url) as on_b:
        sign_up(on_a, "ada@example.org", "correct horse")
        on_b.cookies = on_a.cookies  # the same visitor, sent to the other replica
        assert on_b.get("/account").status_code == 200
        page = on_a.get("/account")
        created = on_a.post(
            "/account/tokens", data={"label": "replicas", "csrf_token": csrf_of(page.text)}
        )
        token_match = re.search(r'<code id="new-token">(pf_[^<]+)</code>', created.text)
        assert token_match is not None
        bearer = {"Authorization": f"Bearer {token_match.group(1)}"}
        before = on_b.get(f"/api/papers/{paper}", headers=bearer).json()
        voted = on_a.post(f"/api/papers/{paper}/upvote", headers=bearer)
        assert voted.status_code == 200
        after = on_b.get(f"/api/papers/{paper}", headers=bearer).json()
        assert (before["upvoted"], after["upvoted"]) == (False, True)
        assert after["upvotes"] == before["upvotes"] + 1
        # a signed-in page on b shows the vote too (signed-in pages are never cached)
        daily_b = on_b.get("/", params={"date": LATEST_DAY}).text
        assert f"/api/papers/{paper}" in daily_b or paper in daily_b
        fresh = on_b.get("/api/daily_papers", params={"date": LATEST_DAY}, headers=bearer).json()
        counts = {entry["paper"]["id"]: entry["paper"]["upvotes"] for entry in fresh}
        assert counts[paper] == after["upvotes"]
        # a comment posted on a is in b's discussion at once, and b can answer it
        posted = on_a.post(
            f"/api/papers/{paper}/comments", json={"text": "Posted on replica a."}, headers=bearer
        )
        assert posted.status_code == 201, posted.text
        reply = on_b.post(
            f"/api/papers/{paper}/comments",
            json={"text": "Answered on replica b.", "parent": posted.json()["id"]},
            headers=bearer,
        )
        assert reply.status_code == 201, reply.text
        thread = on_a.get(f"/api/papers/{paper}/comments", headers=bearer).json()
        assert [t["text"] for t in thread["threads"]] == ["Posted on replica a."]
        assert [r["text"] for r in thread["threads"][0]["replies"]] == ["Answered on replica b."]
        # a submission on b puts the paper on today's list, read on a at once
        submit_form = on_b.get("/submit")
        submitted = on_b.post(
            "/submit", data={"arxiv_id": ARXIV_ONLY_ID, "csrf_token": csrf_of(submit_form.text)}
        )
        assert submitted.status_code == 303, submitted.text
        today = on_a.get("/").text
        assert f"/papers/{ARXIV_ONLY_ID}" in today
        again = on_a.post(
            "/submit",
            data={"arxiv_id": ARXIV_ONLY_ID, "csrf_token": csrf_of(on_a.get("/submit").text)},
        )
        assert again.status_code == 400 and "already on the daily list" in again.text
        # a subscription started on a is confirmed on b (its mail is printed in a's log)
        body = {"email": "reader@example.org", "frequency": "daily", "time_zone": "UTC"}
        assert on_a.post("/api/subscriptions", json=body).status_code == 202
        link = re.search(r"/subscribe/confirm\?token=([^\s\"<>]+)", a.output())
        assert link is not None, a.output()
        confirmed = on_b.get("/subscribe/confirm", params={"token": link.group(1)})
        assert confirmed.status_code == 200, confirmed.text
        # the sign-in rate limit is counted in the database, across replicas
        for client in (on_a, on_b) * 5:
            client.post(
                "/signin",
                data={
                    "email": "ada@example.org",
                    "password": "wrong",
                    "csrf_token": csrf_of(client.get("/signin").text),
                },
            )
        limited = on_b.post(
            "/signin",
            data={
                "email": "ada@example.org",
                "password": "correct horse",
                "csrf_token": csrf_of(on_b.get("/signin").text),
            },
        )
        assert limited.status_code == 429
    assert anonymous_before.status_code == 200


def test_a_paper_indexed_by_one_replica_reaches_the_other_without_re_embedding(
    replicas: tuple[Replica, Replica, str], tmp_path: Path
) -> None:
    a, b, _ = replicas
    record = {
        "id": "2608.99901",
        "title": "Quasar zebrafish tokenizers for replicated search",
        "abstract": "We index a zebrafish quasar corpus on one replica and search on another.",
        "authors": ["R. Plica"],
        "daily_date": LATEST_DAY,
        "upvotes": 2,
    }
    source = tmp_path / "new.jsonl"
    source.write_text(json.dumps(record) + "\n")
    _cli(a.env, "ingest", str(source), "--format", "daily-papers-flat", "--quiet")
    assert "embedded 1;" in _cli(a.env, "index", "--quiet")

    def found_on(replica: Replica) -> bool:
        # with a token: an API read is never served from the anonymous page cache
        response = http_get(
            f"{replica.url}/api/search",
            params={"q": "zebrafish quasar"},
            headers={"Authorization": "Bearer none"},
            timeout=30,
        )
        return any(hit["id"] == "2608.99901" for hit in response.json()["hits"])

    assert found_on(a)
    assert not found_on(b)  # b's index is its own, updated when b runs `paperfeed index`
    b_index = _cli(b.env, "index", "--quiet")
    assert "lexical: +1 papers; embedded 0;" in b_index, b_index
    assert found_on(b)


def test_one_replica_runs_the_scheduler_and_the_other_takes_over(
    replicas: tuple[Replica, Replica, str],
) -> None:
    a, b, url = replicas
    _wait_for(
        lambda: HOLDER_LINE in a.output() + b.output() and STANDBY_LINE in a.output() + b.output(),
        30,
        f"no holder and standby: {a.output()} / {b.output()}",
    )
    holder, standby = (a, b) if HOLDER_LINE in a.output() else (b, a)
    assert HOLDER_LINE not in standby.output() and STANDBY_LINE not in holder.output()
    first_holders = _advisory_holders(url)
    assert len(first_holders) == 1
    holder.kill()
    _wait_for(
        lambda: HOLDER_LINE in standby.output(),
        30,
        f"the standby did not take over: {standby.output()}",
    )
    second_holders = _advisory_holders(url)
    assert len(second_holders) == 1 and second_holders != first_holders
    assert http_get(standby.url + "/trending", timeout=10).status_code == 200
