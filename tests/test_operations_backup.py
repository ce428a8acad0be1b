"""``paperfeed backup`` and ``paperfeed restore`` driven as an operator would: the CLI while
a real server takes votes and comments over HTTP, a backup killed with SIGKILL, folders
that are not backups, and PostgreSQL through pg_dump and pg_restore."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.exc import SAWarning

from http_clients import http_client
from paperfeed.accounts import create_api_token
from paperfeed.cli import main
from paperfeed.config import Settings, secret_key_of
from paperfeed.operations.backup import MANIFEST, read_manifest
from paperfeed.store import Store, schema
from paperfeed.store.accounts import insert_user
from running_site import FIXTURES, Site, load_site_corpus, serve

SOURCE = Path(__file__).resolve().parents[1] / "src"
PAPER_IDS = [json.loads(line)["id"] for line in (FIXTURES / "site_daily_papers.jsonl").open()]
QUERIES = ["agent red teaming", "diffusion video generation", "reinforcement learning reward"]
WRITERS = 12
# comments are rate limited per client address (20 in 10 minutes): a few, spread out
COMMENT_EVERY = 25
MAX_COMMENTS = 18


def _run(*arguments: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, list(arguments), env=env, catch_exceptions=False)


def _comments(store: Store) -> list[tuple[int, str]]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(schema.comments.c.id, schema.comments.c.text).order_by(schema.comments.c.id)
        )
        return [(int(row[0]), str(row[1])) for row in rows]


def _votes(store: Store) -> set[tuple[int, int]]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(schema.votes.c.user_id, schema.votes.c.paper_key))
        return {(int(row[0]), int(row[1])) for row in rows}


def _answers(url: str) -> list[list[str]]:
    with http_client(base_url=url, timeout=30) as client:
        return [
            [hit["id"] for hit in client.get("/api/search", params={"q": query}).json()["hits"]]
            for query in QUERIES
        ]


class Writer(threading.Thread):
    """Signed-in users commenting and upvoting over HTTP until told to stop."""

    def __init__(self, site: Site, tokens: list[str]) -> None:
        super().__init__(daemon=True)
        self.site, self.tokens = site, tokens
        self.stop = threading.Event()
        self.done = 0
        self.failures: list[str] = []

    def run(self) -> None:
        clients = [
            self.site.client(headers={"Authorization": f"Bearer {token}"}) for token in self.tokens
        ]
        step = 0
        # every step writes a new row: each (user, paper) is voted on once
        while not self.stop.is_set() and step < WRITERS * len(PAPER_IDS):
            client = clients[step % WRITERS]
            paper = PAPER_IDS[step // WRITERS % len(PAPER_IDS)]
            if step % COMMENT_EVERY or step // COMMENT_EVERY >= MAX_COMMENTS:
                answer = client.post(f"/api/papers/{paper}/upvote")
            else:
                answer = client.post(f"/api/papers/{paper}/comments", json={"text": f"c{step}"})
            if not answer.is_success:
                self.failures.append(answer.text)
            step += 1
            self.done = step
        for client in clients:
            client.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_backup_while_the_server_writes_then_wipe_and_restore(site: Site, tmp_path: Path) -> None:
    tokens = [
        create_api_token(site.store, insert_user(site.store, f"u{n}@example.org", f"u{n}", "x"))
        for n in range(WRITERS)
    ]
    writer = Writer(site, tokens)
    writer.start()
    while writer.done < 20:
        time.sleep(0.01)
    during = _run("backup", str(tmp_path / "during"))
    written_while = writer.done
    while writer.is_alive() and writer.done < written_while + 12:
        time.sleep(0.01)  # some writes surely after the snapshot
    writer.stop.set()
    writer.join(timeout=60)
    assert during.exit_code == 0, during.output
    assert writer.failures == [] and writer.done > written_while > 20
    live_comments, live_votes = _comments(site.store), _votes(site.store)
    papers = site.store.count_papers()
    live_answers = _answers(site.url)
    quiet = _run("backup", str(tmp_path / "quiet"))
    assert quiet.exit_code == 0, quiet.output
    manifest = json.loads((tmp_path / "quiet" / MANIFEST).read_text())
    assert manifest["counts"]["comments"] == len(live_comments)
    assert manifest["counts"]["votes"] == len(live_votes)

    home = site.settings.home
    shutil.rmtree(home)  # the wipe
    restored = _run("restore", str(tmp_path / "during"))
    assert restored.exit_code == 0, restored.output
    assert restored.stderr.strip(), "a restore says each step on standard error"
    store = Store(site.settings.database_url)
    during_comments = _comments(store)
    # a snapshot of a moment: the comments up to some id, each as it was written
    assert during_comments == live_comments[: len(during_comments)]
    during_votes = _votes(store)
    assert during_votes <= live_votes
    # taken while the writes went on: some were in, some came after
    assert len(during_comments) + len(during_votes) > 0
    assert len(during_comments) + len(during_votes) < len(live_comments) + len(live_votes)
    store.close()

    again = _run("restore", "--force", "--quiet", str(tmp_path / "quiet"))
    assert again.exit_code == 0, again.output
    # for cron: no step, no note; the one result line on standard output
    assert again.stderr == "" and again.stdout.startswith(f"restored {tmp_path / 'quiet'} into ")
    store = Store(site.settings.database_url)
    assert _comments(store) == live_comments and _votes(store) == live_votes
    assert store.count_papers() == papers
    with serve(site.settings) as url:
        assert _answers(url) == live_answers
        with http_client(base_url=url) as client:
            thread = client.get(f"/api/papers/{PAPER_IDS[0]}/comments").json()
        assert "c0" in {item["text"] for item in thread["threads"]}
    store.close()


@pytest.fixture
def indexed_home(paperfeed_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", "")
    settings = Settings.from_environment()
    folder = paperfeed_home.parent / "corpus"
    folder.mkdir()
    load_site_corpus(settings, folder).close()
    yield settings


def _home_state(home: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(home)): path.read_bytes()
        for path in sorted(home.rglob("*"))
        if path.is_file() and not path.name.endswith(("-wal", "-shm"))
    }


def test_kill_9_during_a_backup_leaves_the_old_backup_or_none(
    indexed_home: Settings, tmp_path: Path
) -> None:
    settings = indexed_home
    target = tmp_path / "backups" / "nightly"
    first = _run("backup", str(target))
    assert first.exit_code == 0, first.output
    old = read_manifest(target)
    store = Store(settings.database_url)
    insert_user(store, "later@example.org", "later", "x")  # the next backup differs
    store.close()
    environment = {
        **os.environ,
        "PAPERFEED_HOME": str(settings.home),
        "PYTHONPATH": os.pathsep.join([str(SOURCE), os.environ.get("PYTHONPATH", "")]),
    }
    killed_midway = 0
    for _attempt in range(12):
        process = subprocess.Popen(
            [sys.executable, "-m", "paperfeed.cli", "backup", str(target)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        partial = target.parent / f".{target.name}.partial-{process.pid}"
        while process.poll() is None and not partial.exists():
            time.sleep(0.0005)
        if process.poll() is None:
            time.sleep(0.005 * _attempt)  # later into the copy each time
            process.send_signal(signal.SIGKILL)
            killed_midway += process.wait() == -signal.SIGKILL
        else:
            process.wait()
        if target.exists():
            manifest = read_manifest(target)  # complete: every file at its recorded size
            assert manifest["counts"]["users"] in (old["counts"]["users"], 1)
        if killed_midway >= 3:
            break
    assert killed_midway >= 1
    fresh = _run("backup", str(target))
    assert fresh.exit_code == 0, fresh.output
    assert read_manifest(target)["counts"]["users"] == 1
    leftovers = [path.name for path in target.parent.iterdir() if path.name != target.name]
    assert leftovers == []  # what the killed runs left was cleaned up


def test_restore_refuses_what_is_not_a_backup_and_a_home_in_use(
    indexed_home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = indexed_home
    monkeypatch.setenv("PAPERFEED_SMTP_PASSWORD", "hunter2-smtp")
    key = secret_key_of(settings)  # made on first use, as the server does
    before = _home_state(settings.home)
    stray = tmp_path / "photos"
    stray.mkdir()
    (stray / "cat.jpg").write_bytes(b"\xff\xd8")
    refused = _run("restore", str(stray))
    assert refused.exit_code == 1
    assert f"{str(stray)!r} is not a paperfeed backup" in refused.output
    assert "Traceback" not in refused.output
    assert _home_state(settings.home) == before
    clobber = _run("backup", str(stray))
    assert clobber.exit_code == 1 and "not empty and not a paperfeed backup" in clobber.output
    assert sorted(path.name for path in stray.iterdir()) == ["cat.jpg"]

    plain = _run("backup", str(tmp_path / "plain"))
    assert plain.exit_code == 0, plain.output
    text = (tmp_path / "plain" / MANIFEST).read_text()
    assert "hunter2-smtp" not in text and key not in text
    assert not (tmp_path / "plain" / "secret_key").exists()
    assert json.loads(text)["settings"]["embed_model"] == "hashing"
    in_use = _run("restore", str(tmp_path / "plain"))
    assert in_use.exit_code == 1 and "is not empty" in in_use.output and "--force" in in_use.output
    assert _home_state(settings.home) == before

    torn = tmp_path / "torn"
    shutil.copytree(tmp_path / "plain", torn)
    (torn / "paperfeed.db").write_bytes(b"half")
    shutil.rmtree(settings.home)
    incomplete = _run("restore", str(torn))
    assert incomplete.exit_code == 1 and "incomplete" in incomplete.output
    assert "'paperfeed.db' is 4 bytes, its manifest says" in incomplete.output  # not "missing"
    assert not settings.home.exists()
    newer = tmp_path / "newer"  # from a later version, restored by this one
    shutil.copytree(tmp_path / "plain", newer)
    manifest = json.loads((newer / MANIFEST).read_text())
    (newer / MANIFEST).write_text(json.dumps(manifest | {"schema_versions": [1, 2, 999]}))
    downgrade = _run("restore", str(newer))
    assert downgrade.exit_code == 1 and "made by a newer paperfeed" in downgrade.output
    assert "999" in downgrade.output and not settings.home.exists()

    secret = _run("backup", "--include-secrets", str(tmp_path / "secret"))  # no home now
    assert secret.exit_code == 1 and "no database" in secret.output
    assert _run("restore", str(tmp_path / "plain")).exit_code == 0
    (settings.home / "secret_key").write_text(key)  # the key the operator kept apart
    secret = _run("backup", "--include-secrets", str(tmp_path / "secret"))
    assert secret.exit_code == 0, secret.output
    manifest = json.loads((tmp_path / "secret" / MANIFEST).read_text())
    assert manifest["secrets_included"] and manifest["settings"]["smtp_password"] == "hunter2-smtp"
    assert (tmp_path / "secret" / "secret_key").read_text() == key
    assert (tmp_path / "secret" / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.postgres
def test_backup_and_restore_on_postgresql(
    postgres_server: Any, postgres_url: str, paperfeed_home: Path, tmp_path: Path
) -> None:
    # the pg_dump and pg_restore of the server's own version, each run through a wrapper
    # that notes the command line every user of the machine can read (ps, /proc)
    wrappers, seen = tmp_path / "bin", tmp_path / "command-lines"
    wrappers.mkdir()
    for program in ("pg_dump", "pg_restore"):
        wrapper = wrappers / program
        wrapper.write_text(
            f'#!/bin/sh\nprintf "%s\\n" "$*" >> {seen}\n'
            f'printf "PGPASSWORD=%s\\n" "$PGPASSWORD" >> {seen}\n'
            f'exec {postgres_server.bin_path / program} "$@"\n'
        )
        wrapper.chmod(0o755)
    path = os.pathsep.join([str(wrappers), os.environ.get("PATH", "")])
    # a password in the URL (the socket trusts the test user, so any password connects)
    postgres_url = postgres_url.replace("postgres:@", "postgres:s3cret-pw@", 1)
    assert "s3cret-pw" in postgres_url
    environment = {
        "PAPERFEED_DATABASE_URL": postgres_url,
        "PAPERFEED_ARXIV_API_URL": "",
        "PATH": path,
    }
    settings = Settings.from_environment(
        {**environment, "PAPERFEED_HOME": str(paperfeed_home), "PAPERFEED_EMBED_MODEL": "hashing"}
    )
    folder = tmp_path / "corpus"
    folder.mkdir()
    store = load_site_corpus(settings, folder)
    token = create_api_token(store, insert_user(store, "pg@example.org", "pg", "x"))
    with serve(settings) as url:
        with http_client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
            assert client.post(f"/api/papers/{PAPER_IDS[1]}/upvote").is_success
            said = client.post(f"/api/papers/{PAPER_IDS[1]}/comments", json={"text": "pg!"})
            assert said.status_code == 201
        answers = _answers(url)
    comments, votes, papers = _comments(store), _votes(store), store.count_papers()
    backup = _run("backup", str(tmp_path / "pg"), env=environment)
    assert backup.exit_code == 0, backup.output
    assert "postgresql (pg_dump)" in backup.output
    assert (tmp_path / "pg" / "database.pgdump").is_file()
    # the wipe: every table dropped, the home removed
    store.close()
    wipe = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    tables = MetaData()
    with warnings.catch_warnings():  # pgvector's column type, unknown to a bare reflection,
        warnings.simplefilter("ignore", SAWarning)  # is not needed to drop its table
        tables.reflect(wipe)
    tables.drop_all(wipe)
    wipe.dispose()
    shutil.rmtree(paperfeed_home)
    restored = _run("restore", str(tmp_path / "pg"), env=environment)
    assert restored.exit_code == 0, restored.output
    store = Store(settings.database_url)
    assert _comments(store) == comments and _votes(store) == votes
    assert store.count_papers() == papers
    with serve(settings) as url:
        assert _answers(url) == answers
    store.close()
    lines = seen.read_text().splitlines()
    assert len(lines) == 4 and lines[1] == lines[3] == "PGPASSWORD=s3cret-pw", lines
    assert "s3cret-pw" not in lines[0] + lines[2]  # pg_dump's and pg_restore's arguments


def test_restore_with_the_index_outside_the_home_replaces_each_part(
    paperfeed_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", "")
    monkeypatch.setenv("PAPERFEED_INDEX_DIR", str(tmp_path / "elsewhere" / "index"))
    settings = Settings.from_environment()
    folder = tmp_path / "corpus"
    folder.mkdir()
    store = load_site_corpus(settings, folder)
    insert_user(store, "kept@example.org", "kept", "x")
    with serve(settings) as url:
        answers = _answers(url)
    store.close()
    assert _run("backup", str(tmp_path / "b")).exit_code == 0
    store = Store(settings.database_url)
    insert_user(store, "after@example.org", "after", "x")  # to be undone by the restore
    store.close()
    (settings.index_dir / "state.json").write_text("{}")  # and a damaged index
    refused = _run("restore", str(tmp_path / "b"))
    assert refused.exit_code == 1 and "index" in refused.output  # names what is there
    restored = _run("restore", "--force", str(tmp_path / "b"))
    assert restored.exit_code == 0, restored.output
    store = Store(settings.database_url)
    with store.engine.connect() as connection:
        emails = set(connection.scalars(select(schema.users.c.email)))
    store.close()
    assert emails == {"kept@example.org"}
    assert (settings.index_dir / "state.json").read_text() != "{}"
    with serve(settings) as url:
        assert _answers(url) == answers


def test_a_backup_folder_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    under_a_file = _run("backup", str(a_file / "bk"))
    assert under_a_file.exit_code == 1
    assert under_a_file.output == (
        f"Error: cannot write a backup to {str(a_file / 'bk')!r}: {str(a_file)!r} is a file, "
        "not a folder (nothing was written)\n"
    )
    if Path("/proc/self").is_dir():  # a virtual file system where no folder can be made
        virtual = _run("backup", "/proc/bk")
        assert virtual.exit_code == 1
        assert virtual.output.startswith("Error: cannot write a backup to '/proc/bk': ")
    assert a_file.read_text() == "not a folder"


def test_restore_refuses_a_manifest_that_lists_no_database(
    indexed_home: Settings, tmp_path: Path
) -> None:
    settings = indexed_home
    made = _run("backup", str(tmp_path / "made"))
    assert made.exit_code == 0, made.output
    shutil.rmtree(settings.home)  # an empty home: only the backup's completeness is in the way
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / MANIFEST).write_text('{"format": 1}')
    refused = _run("restore", str(bare))
    assert refused.exit_code == 1
    assert refused.output == (
        f"Error: the backup {str(bare)!r} is incomplete: its manifest lists no files\n"
    )
    assert not settings.home.exists()
    manifest = json.loads((tmp_path / "made" / MANIFEST).read_text())
    del manifest["files"]["paperfeed.db"]
    (tmp_path / "made" / "paperfeed.db").unlink()
    (tmp_path / "made" / MANIFEST).write_text(json.dumps(manifest))
    refused = _run("restore", str(tmp_path / "made"))
    assert refused.exit_code == 1
    assert refused.output == (
        f"Error: the backup {str(tmp_path / 'made')!r} is incomplete: 'paperfeed.db' is missing\n"
    )
    assert not settings.home.exists()


def test_restore_force_replaces_only_what_the_backup_holds(indexed_home: Settings) -> None:
    settings = indexed_home
    home = settings.home
    with serve(settings) as url:
        answers = _answers(url)
    nightly = home / "backups" / "nightly"  # the admin keeps backups inside the home
    made = _run("backup", str(nightly))
    assert made.exit_code == 0, made.output
    (home / "notes.txt").write_text("the admin's own file")
    store = Store(settings.database_url)
    insert_user(store, "after@example.org", "after", "x")  # to be undone by the restore
    store.close()
    (settings.index_dir / "state.json").write_text("{}")  # and a damaged index
    restored = _run("restore", "--force", str(nightly))
    assert restored.exit_code == 0, restored.output
    assert read_manifest(nightly)["counts"]["users"] == 0  # still there, still complete
    assert (home / "notes.txt").read_text() == "the admin's own file"
    leftovers = sorted(path.name for path in home.iterdir() if path.name.startswith("."))
    assert leftovers == []
    store = Store(settings.database_url)
    with store.engine.connect() as connection:
        assert list(connection.scalars(select(schema.users.c.email))) == []
    store.close()
    with serve(settings) as url:
        assert _answers(url) == answers
