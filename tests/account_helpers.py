"""Shared steps of the account tests: sign up, upvote, sign in, make a token, a real SMTP
inbox."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from running_site import csrf_of, free_port


def sign_up(client: httpx.Client, email: str, password: str) -> None:
    form = client.get("/signup").text
    answer = client.post(
        "/signup",
        data={"email": email, "name": "Ada", "password": password, "csrf_token": csrf_of(form)},
    )
    assert answer.status_code == 303, answer.text


def upvote(client: httpx.Client, arxiv_id: str) -> None:
    """Upvote a paper the way the page's button does (JSON answer); it must now be upvoted."""
    token = csrf_of(client.get(f"/papers/{arxiv_id}").text)
    response = client.post(
        f"/papers/{arxiv_id}/upvote",
        headers={"Accept": "application/json", "X-CSRF-Token": token},
    )
    assert response.status_code == 200 and response.json()["upvoted"], response.text


def sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    form = client.get("/signin").text
    return client.post(
        "/signin", data={"email": email, "password": password, "csrf_token": csrf_of(form)}
    )


def make_token(client: httpx.Client) -> str:
    page = client.get("/account").text
    made = client.post("/account/tokens", data={"label": "script", "csrf_token": csrf_of(page)})
    assert made.status_code == 200, made.text
    found = re.search(r'id="new-token">([^<]+)<', made.text)
    assert found, made.text
    return found.group(1)


@dataclass
class Inbox:
    """What a real SMTP server (aiosmtpd) received; ``delay`` holds each DATA answer."""

    messages: list[tuple[list[str], bytes]] = field(default_factory=list)
    delay: float = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def wait_for(self, count: int, seconds: float = 20.0) -> None:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} mails arrived, not {count}"


@contextmanager
def smtp_server(inbox: Inbox) -> Iterator[int]:
    """A plain SMTP server on loopback; yields its port."""
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def text_of(raw: bytes) -> str:
    """The plain-text part of a mail, decoded."""
    message = message_from_bytes(raw)
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode("utf-8")
    raise AssertionError("no text/plain part")


def header_of(raw: bytes, name: str) -> str:
    message: Message = message_from_bytes(raw)
    return str(message[name])


def reset_path(raw: bytes) -> str:
    """The path and query of the reset link in a mail."""
    found = re.search(r"https?://[^/\s]+(/reset-password\?token=\S+)", text_of(raw))
    assert found, text_of(raw)
    return found.group(1)
