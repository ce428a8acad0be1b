"""``paperfeed mail test ADDRESS`` against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from paperfeed.cli import main
from running_site import free_port


class Inbox:
    """Takes every message, except for recipients at refused.example."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK queued"


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv("PAPERFEED_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PAPERFEED_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("PAPERFEED_MAIL_FROM", "Lab papers <papers@lab.example>")
    yield received
    controller.stop()


def test_mail_test_sends_one_message_and_says_it_was_accepted(inbox: Inbox) -> None:
    result = CliRunner().invoke(main, ["mail", "test", "ada@example.org"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("accepted: 127.0.0.1:")
    assert "ada@example.org" in result.output
    [(sender, recipients, content)] = inbox.messages
    assert sender == "papers@lab.example" and recipients == ["ada@example.org"]
    assert b"Subject: paperfeed: test message" in content
    assert b"This is a test message from paperfeed" in content


def test_mail_test_reports_a_refusal_and_a_server_that_is_not_there(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    refused = runner.invoke(main, ["mail", "test", "bob@refused.example"])
    assert refused.exit_code == 1
    assert "refused 'bob@refused.example'" in refused.output and "550" in refused.output
    assert inbox.messages == []
    malformed = runner.invoke(main, ["mail", "test", "not an address"])
    assert malformed.exit_code == 2, malformed.output  # a usage error, as click's own
    assert "Invalid value for 'ADDRESS'" in malformed.output
    assert "'not an address' is not an email address" in malformed.output
    for hostile in ("ada@example.org>", "bob,eve@evil.example"):  # header syntax
        refused_address = runner.invoke(main, ["mail", "test", hostile])
        assert refused_address.exit_code == 2
        assert f"'{hostile}' is not an email address" in refused_address.output
    assert inbox.messages == []
    monkeypatch.setenv("PAPERFEED_SMTP_PORT", str(free_port()))  # nobody listens there
    down = runner.invoke(main, ["mail", "test", "ada@example.org"])
    assert down.exit_code == 1
    assert "cannot reach the mail server 127.0.0.1:" in down.output
    assert "Connection refused" in down.output and "Traceback" not in down.output
    monkeypatch.setenv("PAPERFEED_SMTP_PORT", "99999")  # no such port: said, not tried
    no_port = runner.invoke(main, ["mail", "test", "ada@example.org"])
    assert no_port.exit_code == 1
    assert "PAPERFEED_SMTP_PORT='99999' must be at most 65535" in no_port.output
    monkeypatch.delenv("PAPERFEED_SMTP_PORT")
    monkeypatch.setenv("PAPERFEED_SMTP_HOST", "")
    unset = runner.invoke(main, ["mail", "test", "ada@example.org"])
    assert unset.exit_code == 1 and "PAPERFEED_SMTP_HOST is unset" in unset.output


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_a_ca_file_that_cannot_be_read_is_named(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, security: str
) -> None:
    monkeypatch.setenv("PAPERFEED_SMTP_SECURITY", security)
    for ca_file in (tmp_path / "missing.pem", tmp_path):
        monkeypatch.setenv("PAPERFEED_SMTP_CA_FILE", str(ca_file))
        result = CliRunner().invoke(main, ["mail", "test", "ada@example.org"])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"PAPERFEED_SMTP_CA_FILE={str(ca_file)!r} cannot be used" in result.output
    assert inbox.messages == []
