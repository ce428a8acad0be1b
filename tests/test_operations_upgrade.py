"""Upgrading: a database made by the previous version (every migration but the newest),
then ``paperfeed migrate`` as an operator runs it after installing the new version."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from paperfeed.cli import main
from paperfeed.store import schema
from paperfeed.store.database import create_database_engine
from paperfeed.store.migrations import MIGRATIONS, applied_versions

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _previous_version_database(url: str, newest: int = 1) -> None:
    """The schema as the version before this one left it, with one user in it."""
    engine = create_database_engine(url)
    schema.schema_migrations.create(engine)
    for version, name, apply in MIGRATIONS[:-newest]:
        with engine.begin() as connection:
            apply(connection)
            connection.execute(
                schema.schema_migrations.insert().values(
                    version=version, name=name, applied_at=datetime.now(UTC).isoformat()
                )
            )
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (email, name, password_hash, created_at) "
                "VALUES ('old@example.org', 'old', 'x', 0)"
            )
        )
    engine.dispose()


def test_migrate_upgrades_a_previous_version_database(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    _previous_version_database(database_url)
    newest_version, newest_name, _ = MIGRATIONS[-1]
    runner = CliRunner()
    check = runner.invoke(main, ["migrate", "--check"])
    assert check.exit_code == 1
    assert f"pending {newest_version:03d} {newest_name}" in check.output
    engine = create_database_engine(database_url)
    assert newest_version not in applied_versions(engine)  # --check changed nothing
    upgrade = runner.invoke(main, ["migrate"])
    assert upgrade.exit_code == 0, upgrade.output
    assert f"applied {newest_version:03d} {newest_name}" in upgrade.output
    assert f"the schema is now at migration {newest_version:03d}" in upgrade.output
    assert applied_versions(engine) == {version for version, _, _ in MIGRATIONS}
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM users")) == 1  # kept
    engine.dispose()
    again = runner.invoke(main, ["migrate"])
    assert again.exit_code == 0
    assert f"the schema is up to date (migration {newest_version:03d})" in again.output
    # and the upgraded install works end to end
    ingest = runner.invoke(main, ["ingest", "--quiet", str(FIXTURES / "site_daily_papers.jsonl")])
    assert ingest.exit_code == 0, ingest.output
    assert runner.invoke(main, ["index", "--quiet"]).exit_code == 0
    found = runner.invoke(main, ["search", "agent red teaming", "--json"])
    assert found.exit_code == 0 and '"2608.00677"' in found.output


def test_migrate_says_when_a_newer_version_upgraded_the_database(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It said "the schema is up to date" on a database a newer release had upgraded."""
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    assert CliRunner().invoke(main, ["migrate"]).exit_code == 0
    engine = create_database_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            schema.schema_migrations.insert().values(
                version=999, name="from_the_future", applied_at=datetime.now(UTC).isoformat()
            )
        )
    engine.dispose()
    for arguments in (["migrate"], ["migrate", "--check"]):
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == 1, result.output
        assert "up to date" not in result.output
        assert "migrations this version does not know (999): a newer paperfeed" in (result.stderr)


def test_any_command_also_migrates_and_migrate_names_a_bad_database(
    paperfeed_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{paperfeed_home / 'paperfeed.db'}"
    _previous_version_database(url, newest=2)
    runner = CliRunner()
    stats = runner.invoke(main, ["stats", "--json"])  # opening the store upgrades it
    assert stats.exit_code == 0, stats.output
    assert runner.invoke(main, ["migrate", "--check"]).exit_code == 0
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", "mysql://nobody@nowhere/db")
    bad = runner.invoke(main, ["migrate"])
    assert bad.exit_code == 1 and "mysql" in bad.output and "Traceback" not in bad.output


@pytest.mark.postgres
def test_four_migrate_runs_at_once_all_end_with_the_schema_current(
    postgres_url: str, paperfeed_home: Path
) -> None:
    """Deploying several servers at once runs ``paperfeed migrate`` in each: the runs that
    found another one's work done listed it as pending and exited 1."""
    import os
    import subprocess
    import sys

    environment = os.environ | {
        "PAPERFEED_HOME": str(paperfeed_home),
        "PAPERFEED_DATABASE_URL": postgres_url,
    }
    command = [sys.executable, "-m", "paperfeed.cli", "migrate"]
    runs = [
        subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], outputs
    assert not any("pending" in output for output in outputs), outputs
    assert applied_versions(create_database_engine(postgres_url)) == {
        version for version, _, _ in MIGRATIONS
    }


def test_migration_17_puts_old_addresses_in_their_one_form_and_hides_unnameable_papers(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Releases before address canonicalisation stored addresses lower-cased only: those
    accounts could never sign in again. They also stored papers under ids no page can
    name, which stayed on the lists as dead links."""
    from paperfeed import accounts
    from paperfeed.store import Store
    from paperfeed.store.moderation import list_hidden_papers

    monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    # every migration before 17
    _previous_version_database(database_url, newest=sum(v >= 17 for v, _, _ in MIGRATIONS))
    digest = accounts.hash_password("correct horse battery")
    engine = create_database_engine(database_url)
    with engine.begin() as connection:
        for email in (
            "dave@example.org.",
            '"erin"@example.org',
            "carol@bücher.example",
            "twin@example.org.",  # its canonical form is taken: left as it is
            "twin@example.org",
        ):
            connection.execute(
                text(
                    "INSERT INTO users (email, name, password_hash, created_at) "
                    "VALUES (:email, 'x', :digest, 0)"
                ),
                {"email": email, "digest": digest},
            )
        connection.execute(
            text(
                "INSERT INTO subscriptions (email, frequency, time_zone, created_at, "
                "confirmed_at) VALUES ('dave@example.org.', 'daily', 'UTC', 0, 1)"
            )
        )
        for number, arxiv_id in enumerate(("2613.00001", "2608.00001")):
            connection.execute(
                text(
                    "INSERT INTO papers (arxiv_id, title, abstract, title_raw, abstract_raw, "
                    "authors, categories, sources, content_hash, change_sequence, updated_at) "
                    "VALUES (:id, 't', 'a', 't', 'a', '[]', '[]', '[]', 'h', :n, '')"
                ),
                {"id": arxiv_id, "n": number + 1},
            )
    engine.dispose()
    assert CliRunner().invoke(main, ["migrate"]).exit_code == 0
    store = Store(database_url)
    for typed in (
        "dave@example.org.",
        "Dave@Example.org",
        '"erin"@example.org',
        "carol@bücher.example",
    ):
        assert accounts.authenticate(store, typed, "correct horse battery") is not None, typed
    with store.engine.connect() as connection:
        emails = set(connection.scalars(text("SELECT email FROM users")))
        subscribed = connection.scalar(text("SELECT email FROM subscriptions"))
        # migration 18: a subscription from before is no account's
        owner = connection.scalar(text("SELECT user_id FROM subscriptions"))
    assert owner is None
    assert {"dave@example.org", "erin@example.org", "carol@xn--bcher-kva.example"} <= emails
    assert {"twin@example.org.", "twin@example.org"} <= emails
    assert subscribed == "dave@example.org"
    assert [paper.arxiv_id for paper in list_hidden_papers(store)] == ["2613.00001"]
    store.close()
