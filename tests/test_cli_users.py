"""`paperfeed users` driven in-process, as a site's operator would type it, on SQLite and
PostgreSQL; and once as a real subprocess at a hidden prompt's place (stdin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperfeed import accounts
from paperfeed.administration import audit_log, check_invite
from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.store import Store

PASSWORD = "correct horse battery"


def _run(*arguments: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments), input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    return Store(database_url)


def test_the_operator_manages_users(store: Store) -> None:
    code, out, _ = _run("users", "create", "Root@Example.org", "--admin", "--password-stdin",
                        stdin=PASSWORD + "\n")  # fmt: skip
    assert code == 0 and out.startswith("created admin root@example.org (id ")
    # typed at the hidden prompt, twice
    code, out, _ = _run("users", "create", "eve@example.org", "--name", "Eve",
                        stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert code == 0 and "created user eve@example.org" in out
    code, out, _ = _run("users", "list")
    lines = [line.split("\t") for line in out.splitlines()]
    assert [line[4] for line in lines] == ["0 comments", "0 comments"]
    assert [(line[1], line[2], line[3]) for line in lines] == [
        ("root@example.org", "admin", "active"),
        ("eve@example.org", "user", "active"),
    ]
    eve = accounts.authenticate(store, "eve@example.org", PASSWORD)
    assert eve is not None
    session = accounts.start_session(store, eve)
    token = accounts.create_api_token(store, eve)

    code, out, _ = _run("users", "disable", "eve@example.org")
    assert code == 0 and "sessions and API tokens ended" in out
    assert accounts.user_for_session(store, session) is None
    assert accounts.user_for_token(store, token) is None
    with pytest.raises(accounts.AccountDisabledError):  # the right password, disabled
        accounts.authenticate(store, "eve@example.org", PASSWORD)
    code, out, _ = _run("users", "list", "--json")
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["email"], r["state"]) for r in records][1] == ("eve@example.org", "disabled")
    assert _run("users", "enable", str(eve.id))[0] == 0
    assert accounts.authenticate(store, "eve@example.org", PASSWORD) is not None

    session = accounts.start_session(store, eve)
    code, out, _ = _run("users", "reset-password", "eve@example.org", "--password-stdin",
                        stdin="a brand new password\n")  # fmt: skip
    assert code == 0 and "1 session and 0 API tokens ended" in out  # said "1 sessions"
    assert accounts.user_for_session(store, session) is None
    assert accounts.authenticate(store, "eve@example.org", "a brand new password") is not None

    assert _run("users", "promote", "eve@example.org")[0] == 0
    assert _run("users", "demote", "root@example.org")[0] == 0
    code, _, err = _run("users", "demote", "eve@example.org")
    assert code == 1 and "eve@example.org is the last admin" in err

    code, out, err = _run("users", "invite", "--email", "bob@example.org", "--days", "3")
    assert code == 0 and "for bob@example.org" in err
    link = out.strip()
    assert link.startswith("http://") and "/signup?invite=" in link
    assert check_invite(store, link.partition("invite=")[2]).email == "bob@example.org"
    assert "warning: PAPERFEED_BASE_URL is not set, so the link names http://" in err

    actions = [(entry.actor, entry.action) for entry in audit_log(store)][::-1]
    assert all(actor.startswith("command line (") for actor, _ in actions)
    assert [action for _, action in actions] == [
        "user.create",
        "user.create",
        "user.disable",
        "user.enable",
        "user.reset_password",
        "user.promote",
        "user.demote",
        "invite.create",
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PAPERFEED_BASE_URL", "https://papers.lab.example")
        code, out, err = _run("users", "invite")
    assert code == 0 and out.startswith("https://papers.lab.example/signup?invite=")
    assert "warning" not in err


def test_bad_input_is_named_and_changes_nothing(store: Store) -> None:
    code, _, err = _run("users", "create", "not-an-address", "--password-stdin", stdin="x" * 9)
    assert code == 2 and "Invalid value for 'EMAIL'" in err  # malformed: a usage error
    assert "email 'not-an-address' is not an email address" in err
    code, _, err = _run("users", "create", "ada@example.org", "--password-stdin", stdin="short\n")
    assert code == 1 and "password is 5 characters long (at least 8)" in err
    code, _, err = _run("users", "create", "ada@example.org", "--password-stdin", stdin="\n")
    assert code == 1 and "no password on stdin" in err
    code, _, err = _run("users", "disable", "nobody@example.org")
    assert code == 1 and "no user 'nobody@example.org'" in err
    code, _, err = _run("users", "reset-password", "42", "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "no user '42'" in err
    for command in ("promote", "disable", "enable"):
        code, _, err = _run("users", command, "99999999999999999999999")
        assert code == 1 and "no user '99999999999999999999999'" in err, err
    code, _, err = _run("users", "promote", "²")
    assert code == 1 and "no user '²'" in err and "Traceback" not in err
    code, _, err = _run("users", "reset-password", "2147483648", "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "no user '2147483648'" in err
    # a bad option value is a usage error (exit 2) naming the option, as README says
    for days in ("0", "-1", "nan", "5000"):
        code, _, err = _run("users", "invite", "--days", days)
        assert code == 2 and "Invalid value for '--days': invite validity" in err, err
    code, _, err = _run("users", "invite", "--email", "not-an-address")
    assert code == 2 and "'--email': email 'not-an-address' is not an email address" in err
    assert _run("users", "list") == (0, "", "")
    assert audit_log(store) == []
    # said before the password is asked twice, not after
    code, out, err = _run("users", "create", "not-an-address", stdin=f"{PASSWORD}\n" * 2)
    assert code == 2 and "is not an email address" in err and "Password" not in out + err
    _run("users", "create", "ada@example.org", "--password-stdin", stdin=PASSWORD)
    code, out, err = _run("users", "create", "ADA@example.org", stdin=f"{PASSWORD}\n" * 2)
    assert code == 1 and "an account for 'ada@example.org' exists already" in err
    assert "Password" not in out + err


def test_a_bad_signup_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_SIGNUP", "invitation")
    code, _, err = _run("users", "list")
    assert code == 1
    assert "PAPERFEED_SIGNUP='invitation' is not one of open, invite, closed" in err
    monkeypatch.setenv("PAPERFEED_SIGNUP", "Invite")
    assert Settings.from_environment().signup == "invite"
    monkeypatch.setenv("PAPERFEED_INVITE_DAYS", "-2")
    with pytest.raises(ValueError, match="PAPERFEED_INVITE_DAYS='-2' must be a positive"):
        Settings.from_environment()
    monkeypatch.setenv("PAPERFEED_INVITE_DAYS", "5000")  # longer than an invite may last
    code, _, err = _run("users", "invite")
    assert code == 1 and "PAPERFEED_INVITE_DAYS='5000' must be at most 3650" in err, err


def test_the_first_admin_from_a_real_shell(paperfeed_home: Path) -> None:
    """The README's first step, as a subprocess with the password piped in."""
    environment = dict(os.environ)
    source = str(Path(__file__).resolve().parents[1] / "src")
    environment["PYTHONPATH"] = source + os.pathsep + environment.get("PYTHONPATH", "")
    command = [sys.executable, "-m", "paperfeed.cli", "users", "create", "admin@example.org"]
    done = subprocess.run(
        [*command, "--admin", "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "created admin admin@example.org" in done.stdout
    store = Store(Settings.from_environment().database_url)
    user = accounts.authenticate(store, "admin@example.org", PASSWORD)
    assert user is not None and user.is_admin
