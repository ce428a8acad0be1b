"""Email digests against a real SMTP server (aiosmtpd on loopback), SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.digest.scheduling import run_once
from paperfeed.digest.sending import Mailer, deliver_due, queue_digests
from paperfeed.digest.subscribing import TopicInput, subscribe, update_subscription
from paperfeed.search import SearchEngine
from paperfeed.store import Store
from paperfeed.store.loading import ingest_sources
from paperfeed.store.subscriptions import claim_due_messages, confirm_subscription, outbox_counts
from running_site import Site, csrf_of, load_site_corpus, serve


@dataclass
class Inbox:
    """What the SMTP server received; ``refuse_after`` makes it fail like a server in trouble."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse_after: int | None = None
    unknown: set[str] = field(default_factory=set)  # addresses answered "550 no such user"

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.unknown:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse_after is not None and len(self.messages) >= self.refuse_after:
            return "451 4.3.0 try again later"
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    inbox = Inbox()
    # aiosmtpd's readiness check connects to the configured port, so it cannot be 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port  # type: ignore[attr-defined]
    yield inbox
    controller.stop()


@pytest.fixture
def mail_settings(inbox: Inbox, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERFEED_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PAPERFEED_SMTP_PORT", str(inbox.port))  # type: ignore[attr-defined]
    monkeypatch.setenv("PAPERFEED_MAIL_FROM", "Daily Papers <papers@example.org>")
    monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", "")
    return Settings.from_environment()


@pytest.fixture
def mail_site(
    mail_settings: Settings, paperfeed_home: Path, site_corpus: Callable[[Settings, Path], Store]
) -> Iterator[Site]:
    folder = paperfeed_home.parent / "site"
    folder.mkdir()
    store = site_corpus(mail_settings, folder)
    with serve(mail_settings) as url:
        yield Site(url, mail_settings, store)
    store.close()


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def _html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _send(
    site: Site, frequency: str = "daily", period: str | None = "2026-08-21", **kw: Any
) -> Any:
    engine = SearchEngine(site.store, site.settings)
    report = queue_digests(site.store, engine, site.settings, frequency, period=period)
    delivery = deliver_due(site.store, Mailer(site.settings), **kw)
    return report, delivery


def test_subscribe_confirm_receive_and_unsubscribe_by_the_mailed_links(
    mail_site: Site, inbox: Inbox
) -> None:
    with mail_site.client() as client:
        form = client.get("/subscribe").text
        answer = client.post(
            "/subscribe",
            data={
                "email": "Reader@Example.org",
                "frequency": "daily",
                "time_zone": "Europe/Paris",
                "topic": ["terminal agents", ""],
                "relevance": ["0", "0.3"],
                "csrf_token": csrf_of(form),
            },
        )
        assert answer.status_code == 200 and "Check your inbox" in answer.text
        # double opt-in: only the confirmation so far, and no digest before it is followed
        assert [m["Subject"] for m in inbox.messages] == ["Confirm your paperfeed subscription"]
        assert _send(mail_site)[1].sent == 0
        confirm_url = re.search(r"(http\S+/subscribe/confirm\?token=\S+)", _text(inbox.messages[0]))
        assert confirm_url
        confirmed = client.get(_local(confirm_url.group(1)))
        assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text

        report, delivery = _send(mail_site)
        assert (report.queued, delivery.sent) == (1, 1)
        digest = inbox.to("reader@example.org")[-1]
        # the 5 top papers, then the 3 others of the day that match "terminal agents" by
        # their words; papers matching neither word and under the relevance floor by
        # meaning are not news, whatever the topic's minimum relevance
        assert digest["Subject"] == "Daily papers 2026-08-21: 8 papers"
        assert digest["From"] == "Daily Papers <papers@example.org>"
        assert digest.get_content_type() == "multipart/alternative"
        text, html = _text(digest), _html(digest)
        assert "EnvHarness: Awakening Static Worlds for Agent Learning" in text
        assert f"{mail_site.settings.base_url}/papers/2608.19880" in text
        assert 'MATCHING "terminal agents"' in text and "2608.18580" in text
        assert "&lt;script&gt;" in html or "<script>" not in html
        assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        # running again for the same period sends nothing new
        assert _send(mail_site)[1].sent == 0
        assert len(inbox.to("reader@example.org")) == 2

        # the mail client's one-click unsubscribe (RFC 8058) with the header's link
        unsubscribe = digest["List-Unsubscribe"].strip("<>")
        done = client.post(_local(unsubscribe), content=b"List-Unsubscribe=One-Click")
        assert done.status_code == 200 and "You are unsubscribed" in done.text
    report, delivery = _send(mail_site, period="2026-08-20")
    assert report.subscribers == 0 and delivery.sent == 0


def test_papers_are_never_sent_twice(mail_site: Site, inbox: Inbox) -> None:
    subscription = subscribe(mail_site.store, "twice@example.org", "daily", "UTC")
    confirm_subscription(mail_site.store, subscription.id)
    _send(mail_site)
    first = set(re.findall(r"/papers/(\d{4}\.\d{5})", _text(inbox.messages[-1])))
    # the same subscriber switches to weekly: the week holding 2026-08-21 skips its papers
    subscribe(mail_site.store, "twice@example.org")  # no change: only the manage link may

    update_subscription(mail_site.store, subscription, "weekly", "UTC", [])
    _send(mail_site, frequency="weekly", period="2026-W34")
    second = set(re.findall(r"/papers/(\d{4}\.\d{5})", _text(inbox.messages[-1])))
    assert len(first) == 5 and len(second) == 5 and not first & second


def test_an_empty_period_sends_nothing(mail_site: Site, inbox: Inbox) -> None:
    subscription = subscribe(mail_site.store, "weekend@example.org", "daily", "UTC")
    confirm_subscription(mail_site.store, subscription.id)
    report, delivery = _send(mail_site, period="2026-08-16")  # a Sunday
    assert (report.empty, report.queued, delivery.sent) == (1, 0, 0)
    assert inbox.messages == []
    assert _send(mail_site, period="2026-08-16")[0].already == 1  # not composed again


def test_server_failing_partway_then_recovering_sends_each_digest_once(
    mail_site: Site, inbox: Inbox
) -> None:
    addresses = [f"reader{number}@example.org" for number in range(6)]
    for address in addresses:
        confirm_subscription(mail_site.store, subscribe(mail_site.store, address).id)
    inbox.refuse_after = 2
    now = time.time() + 5  # just after the messages are queued
    report, delivery = _send(mail_site, now=now)
    assert (report.queued, delivery.sent, delivery.failed) == (6, 2, 1)
    assert "451" in delivery.errors[0]
    # retried with backoff: a run a moment later does not hammer the server
    assert _send(mail_site, now=now + 1)[1].sent == 0
    inbox.refuse_after = None
    assert _send(mail_site, now=now + 3600)[1].sent == 4
    assert _send(mail_site, now=now + 7200)[1].sent == 0
    assert sorted(message["To"] for message in inbox.messages) == sorted(addresses)
    assert outbox_counts(mail_site.store) == {"sent": 6}


def test_one_refused_address_holds_up_no_one_else(mail_site: Site, inbox: Inbox) -> None:
    """A recipient the server refuses for good (550) failed the run at its message, and,
    picked first again by every run, held up every later subscriber's mail."""
    addresses = ["a-typo@example.org", "fay@example.org", "gus@example.org"]
    for address in addresses:
        confirm_subscription(mail_site.store, subscribe(mail_site.store, address).id)
    inbox.unknown = {"a-typo@example.org"}
    now = time.time() + 5
    report, delivery = _send(mail_site, now=now)
    assert (report.queued, delivery.sent, delivery.failed, delivery.given_up) == (3, 2, 1, 1)
    assert "550" in delivery.errors[0]
    assert sorted(message["To"] for message in inbox.messages) == addresses[1:]
    # given up at once: a 5xx says no retry will change it
    assert _send(mail_site, now=now + 86_400)[1].failed == 0
    assert outbox_counts(mail_site.store) == {"dead": 1, "sent": 2}


def test_a_paper_holding_every_word_of_a_topic_is_news_whatever_its_cosine(
    mail_site: Site, inbox: Inbox
) -> None:
    """A short keyword topic is far, by cosine, from most abstracts that name it: with a
    relevance floor no cosine reaches, the papers holding every word of the topic are
    still in its section, and only they."""
    address = "kl@example.org"
    topic = TopicInput("reference KL loss", 0.95)
    subscription = subscribe(mail_site.store, address, "weekly", "UTC", [topic])
    confirm_subscription(mail_site.store, subscription.id)
    _send(mail_site, frequency="weekly", period="2026-W34")
    [mail] = inbox.to(address)
    section = _text(mail).split('MATCHING "reference KL loss"', 1)[1].split("--\n", 1)[0]
    shown = re.findall(r"/papers/(\d{4}\.\d{5})", section)
    assert "2608.14277" in shown  # "... a student reference KL loss ..."
    for arxiv_id in shown:
        paper = mail_site.store.get_paper(arxiv_id)
        assert paper is not None
        words = set(re.findall(r"[a-z]+", f"{paper.title} {paper.abstract}".lower()))
        assert {"reference", "kl", "loss"} <= words, arxiv_id


def test_a_run_killed_mid_send_is_resumed(mail_site: Site, inbox: Inbox) -> None:

    confirm_subscription(mail_site.store, subscribe(mail_site.store, "k@example.org").id)
    engine = SearchEngine(mail_site.store, mail_site.settings)
    queue_digests(mail_site.store, engine, mail_site.settings, "daily", period="2026-08-21")
    now = time.time()
    # a runner claims the message and dies before handing it to the server
    assert len(claim_due_messages(mail_site.store, now, limit=1)) == 1
    assert deliver_due(mail_site.store, Mailer(mail_site.settings), now=now + 1).sent == 0
    assert deliver_due(mail_site.store, Mailer(mail_site.settings), now=now + 601).sent == 1
    assert len(inbox.messages) == 1


@pytest.mark.parametrize(
    ("email", "topic", "message"),
    [
        ("a@example.org\r\nBcc: victim@example.org", "", "line break"),
        ("not-an-address", "", "not an email address"),
        # header syntax in the address: a To header naming two mailboxes, or a stray '>'
        ("bob,eve@evil.example", "", "not an email address"),
        ("bob@example.org>", "", "not an email address"),
        ("bob(x)@example.org", "", "not an email address"),
        ("b@example.org", "agents\r\nBcc: victim@example.org", "line break"),
    ],
)
def test_header_injection_and_bad_addresses_are_refused(
    mail_site: Site, inbox: Inbox, email: str, topic: str, message: str
) -> None:
    with mail_site.client() as client:
        form = client.get("/subscribe").text
        answer = client.post(
            "/subscribe",
            data={
                "email": email,
                "topic": [topic],
                "relevance": ["0.3"],
                "csrf_token": csrf_of(form),
            },
        )
        api = client.post("/api/subscriptions", json={"email": email, "topics": [{"query": topic}]})
    assert answer.status_code == 400 and message in answer.text
    assert api.status_code == 400 and message in api.json()["detail"]
    assert inbox.messages == []


def test_subscribe_through_the_api_and_manage_by_link(mail_site: Site, inbox: Inbox) -> None:
    with mail_site.client() as client:
        answer = client.post(
            "/api/subscriptions",
            json={
                "email": "api@example.org",
                "frequency": "weekly",
                "time_zone": "America/New_York",
                "topics": [{"query": "video generation", "min_relevance": 0.4}],
            },
        )
        assert answer.status_code == 202 and answer.json()["status"] == "confirmation sent"
        confirm_url = re.search(r"(http\S+/subscribe/confirm\?token=\S+)", _text(inbox.messages[0]))
        assert confirm_url
        page = client.get(_local(confirm_url.group(1)))
        manage_url = re.search(r'href="http[^"]+(/subscribe/manage\?token=[^"]+)"', page.text)
        assert manage_url
        manage = client.get(manage_url.group(1).replace("&amp;", "&"))
        assert 'value="video generation"' in manage.text and "America/New_York" in manage.text
        token = re.search(r'name="token" value="([^"]+)"', manage.text)
        assert token
        saved = client.post(
            "/subscribe/manage",
            data={
                "token": token.group(1),
                "frequency": "daily",
                "time_zone": "Asia/Tokyo",
                "topic": ["diffusion"],
                "relevance": ["0.5"],
                "csrf_token": csrf_of(manage.text),
                "action": "save",
            },
        )
        assert saved.status_code == 200 and "Saved." in saved.text
        assert 'value="diffusion"' in saved.text
        preview = client.get("/digest/preview", params={"token": token.group(1)})
        assert preview.status_code == 200 and "Your daily papers" in preview.text
        assert "unsafe-inline" in preview.headers["content-security-policy"]
        forged = client.get("/subscribe/manage", params={"token": token.group(1) + "x"})
        wrong_purpose = client.post("/unsubscribe", params={"token": token.group(1)})
        assert forged.status_code == 400 and "not valid" in forged.text
        assert wrong_purpose.status_code == 400
        deleted = client.post(
            "/subscribe/manage",
            data={"token": token.group(1), "csrf_token": csrf_of(manage.text), "action": "delete"},
        )
        assert "Subscription deleted" in deleted.text
        assert client.get(manage_url.group(1).replace("&amp;", "&")).status_code == 404


def test_sample_preview_without_a_subscription(mail_site: Site) -> None:
    with mail_site.client() as client:
        sample = client.get("/digest/preview", params={"q": "agents"})
        weekend = client.get("/digest/preview", params={"period": "2026-08-16"})
        bad = client.get("/digest/preview", params={"period": "yesterday"})
    assert sample.status_code == 200 and "EnvHarness" in sample.text
    assert "Matching “agents”" in sample.text
    # a sample has no subscription to manage: its footer links to sign-up, and every link
    # it shows answers
    assert "Unsubscribe" not in sample.text and "This is a sample" in sample.text
    base = mail_site.settings.base_url
    links = re.findall(r'href="([^"]+)"', sample.text)
    assert f"{base}/subscribe" in links
    with mail_site.client() as client:
        for link in {link for link in links if link.startswith(base)}:
            answer = client.get(link.removeprefix(base).replace("&amp;", "&"))
            assert answer.status_code == 200, link
    assert weekend.status_code == 404 and "period=2026-08-14" in weekend.text
    assert bad.status_code == 400 and "yesterday" in bad.text
    with mail_site.client() as client:  # what date.fromisoformat also reads is no period
        for loose in ("20260821", "2026-W34-5", "２０２６-08-21", "2026-W34\n"):
            refused = client.get("/digest/preview", params={"period": loose})
            assert refused.status_code == 400, loose


def test_cli_digest_send_dry_run_then_for_real(
    mail_settings: Settings, paperfeed_home: Path, inbox: Inbox
) -> None:
    folder = paperfeed_home.parent / "cli"
    folder.mkdir()
    store = load_site_corpus(mail_settings, folder)
    confirm_subscription(
        store, subscribe(store, "cli@example.org", "daily", "UTC", [TopicInput("agents", 0)]).id
    )
    runner = CliRunner()
    dry = runner.invoke(main, ["digest", "send", "--for", "2026-08-21", "--dry-run", "--quiet"])
    assert dry.exit_code == 0, dry.output
    assert "--- cli@example.org" in dry.output and "1 composed" in dry.output
    # the text part, decoded: not the base64 MIME the mail carries
    assert "EnvHarness: Awakening Static Worlds" in dry.output
    assert "Content-Transfer-Encoding" not in dry.output
    assert "PAPERFEED_BASE_URL is not set" in dry.output
    weekly = runner.invoke(
        main, ["digest", "send", "--period", "weekly", "--for", "2026-08-21", "--dry-run"]
    )
    assert weekly.exit_code == 0, weekly.output  # a day inside the week names the week
    assert inbox.messages == []
    real = runner.invoke(main, ["digest", "send", "--for", "2026-08-21", "--quiet"])
    assert real.exit_code == 0 and "sent 1, failed 0" in real.output
    again = runner.invoke(main, ["digest", "send", "--for", "2026-08-21", "--quiet"])
    assert "0 queued" in again.output and "1 composed before" in again.output
    assert len(inbox.messages) == 1
    bad = runner.invoke(main, ["digest", "send", "--for", "2026-8-21"])
    assert bad.exit_code != 0 and "'2026-8-21' is malformed" in bad.output
    week = runner.invoke(main, ["digest", "send", "--for", "2026-W34"])  # daily by default
    assert week.exit_code == 2 and "(a week needs --period weekly)" in week.output
    assert "sent 1" in runner.invoke(main, ["digest", "status"]).output
    store.close()
    Store(mail_settings.database_url).close()


def test_cli_digest_send_exits_1_while_mail_waits_for_a_retry(
    mail_settings: Settings, paperfeed_home: Path, inbox: Inbox
) -> None:
    folder = paperfeed_home.parent / "cli"
    folder.mkdir()
    store = load_site_corpus(mail_settings, folder)
    confirm_subscription(
        store, subscribe(store, "retry@example.org", "daily", "UTC", [TopicInput("agents", 0)]).id
    )
    inbox.refuse_after = 0  # the server is in trouble
    runner = CliRunner()
    failed = runner.invoke(main, ["digest", "send", "--for", "2026-08-21", "--quiet"])
    assert failed.exit_code == 1 and "failed 1" in failed.output
    waiting = runner.invoke(main, ["digest", "send", "--for", "2026-08-21", "--quiet"])
    assert waiting.exit_code == 1, waiting.output  # nothing due yet, but mail is waiting
    assert "1 mail(s) wait for a retry" in waiting.output
    store.close()


def test_the_schedule_sends_at_each_subscribers_local_hour(mail_site: Site, inbox: Inbox) -> None:

    settings = replace(mail_site.settings, digest_hour=7)
    for address, zone in (
        ("tokyo@example.org", "Asia/Tokyo"),
        ("ny@example.org", "America/New_York"),
    ):
        confirm_subscription(mail_site.store, subscribe(mail_site.store, address, "daily", zone).id)
    engine = SearchEngine(mail_site.store, settings)
    early = datetime(2026, 8, 22, 6, 30, tzinfo=UTC).timestamp()  # Tokyo 15:30, New York 02:30
    run_once(mail_site.store, engine, settings, early)
    assert [m["To"] for m in inbox.messages] == ["tokyo@example.org"]
    assert inbox.messages[0]["Subject"].startswith("Daily papers 2026-08-21")
    later = datetime(2026, 8, 22, 12, 0, tzinfo=UTC).timestamp()  # New York 08:00
    run_once(mail_site.store, engine, settings, later)
    run_once(mail_site.store, engine, settings, later + 600)  # another tick: nothing new
    assert sorted(m["To"] for m in inbox.messages) == ["ny@example.org", "tokyo@example.org"]


def test_east_of_utc_a_day_is_sent_once_it_has_ended_in_utc(mail_site: Site, inbox: Inbox) -> None:
    """The daily lists are UTC days: at 10:00 UTC on 21 August, Kiritimati (UTC+14) is
    at midnight of the 22nd, but the list of the 21st is still being filled. Its digest
    waited for nothing and, composed, was final without the rest of the day."""
    settings = replace(mail_site.settings, digest_hour=0)
    address = "kiritimati@example.org"
    confirm_subscription(
        mail_site.store, subscribe(mail_site.store, address, "daily", "Pacific/Kiritimati").id
    )
    engine = SearchEngine(mail_site.store, settings)
    midday = datetime(2026, 8, 21, 10, 0, tzinfo=UTC).timestamp()  # Kiritimati: 22nd, 00:00
    run_once(mail_site.store, engine, settings, midday)
    assert not any(m["Subject"].startswith("Daily papers 2026-08-21") for m in inbox.messages)
    after = datetime(2026, 8, 22, 0, 5, tzinfo=UTC).timestamp()  # the UTC day has ended
    run_once(mail_site.store, engine, settings, after)
    assert [m["Subject"][:23] for m in inbox.to(address)][-1:] == ["Daily papers 2026-08-21"]


def test_a_day_not_over_yet_is_not_recorded_empty_and_is_sent_once_it_has_papers(
    mail_settings: Settings, paperfeed_home: Path, inbox: Inbox
) -> None:
    """`digest send --for <today>` before today's papers came in recorded the day as
    "empty", so the run after the sync skipped it as "composed before": a lost digest."""
    folder = paperfeed_home.parent / "cli"
    folder.mkdir()
    store = load_site_corpus(mail_settings, folder)
    confirm_subscription(store, subscribe(store, "today@example.org", "daily", "UTC").id)
    today = datetime.now(UTC).date().isoformat()
    runner = CliRunner()
    early = runner.invoke(main, ["digest", "send", "--for", today, "--quiet"])
    assert early.exit_code == 0 and "1 with nothing new" in early.output, early.output
    assert outbox_counts(store) == {} and inbox.messages == []
    arrived = folder / "today.jsonl"
    arrived.write_text(
        json.dumps(
            {
                "id": "2612.00001",
                "title": "Papers that came in today",
                "abstract": "Synced after the first digest run.",
                "authors": ["Ada Lovelace"],
                "daily_date": today,
                "upvotes": 3,
            }
        )
        + "\n"
    )
    ingest_sources(store, [arrived], "daily-papers-flat")
    later = runner.invoke(main, ["digest", "send", "--for", today, "--quiet"])
    assert later.exit_code == 0 and "sent 1, failed 0" in later.output, later.output
    assert "Papers that came in today" in _text(inbox.to("today@example.org")[0])
    past = runner.invoke(main, ["digest", "send", "--for", "2026-08-16", "--quiet"])  # a Sunday
    assert "1 with nothing new" in past.output and outbox_counts(store) == {"empty": 1, "sent": 1}
    store.close()


def test_the_api_takes_timezone_period_and_plain_topics_instead_of_dropping_them(
    mail_site: Site, inbox: Inbox
) -> None:
    """`{"timezone": "Asia/Tokyo", "period": "weekly"}` answered 202 but subscribed a
    daily UTC subscriber: the keys were dropped without a word."""
    with mail_site.client() as client:
        answer = client.post(
            "/api/subscriptions",
            json={
                "email": "tokyo@example.org",
                "period": "weekly",
                "timezone": "Asia/Tokyo",
                "topics": ["video generation", {"query": "agents", "relevance": 0.5}],
            },
        )
        assert answer.status_code == 202, answer.text
        confirm_url = re.search(r"(http\S+/subscribe/confirm\?token=\S+)", _text(inbox.messages[0]))
        assert confirm_url and "weekly" in _text(inbox.messages[0])
        page = client.get(_local(confirm_url.group(1)))
        manage_url = re.search(r'href="http[^"]+(/subscribe/manage\?token=[^"]+)"', page.text)
        assert manage_url
        manage = client.get(manage_url.group(1).replace("&amp;", "&")).text
    assert re.search(r'<option value="Asia/Tokyo"\s+selected', manage), manage
    assert 'value="video generation"' in manage and 'value="agents"' in manage
    assert 'value="0.5"' in manage


def test_a_from_name_with_a_comma_or_accents_is_one_mailbox_and_no_address_is_refused(
    mail_settings: Settings, paperfeed_home: Path, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PAPERFEED_MAIL_FROM="Labo Pâpers, Inc <papers@example.org>": the comma made the From
    header name two mailboxes, the accent made every digest fail to render (a traceback
    from the ASCII-only header writer); a From with no address was sent as it was."""
    folder = paperfeed_home.parent / "cli"
    folder.mkdir()
    store = load_site_corpus(mail_settings, folder)
    confirm_subscription(store, subscribe(store, "from@example.org", "daily", "UTC").id)
    runner = CliRunner()
    monkeypatch.setenv("PAPERFEED_MAIL_FROM", "not an address")
    refused = runner.invoke(main, ["digest", "send", "--for", "2026-08-21", "--quiet"])
    assert refused.exit_code != 0 and "PAPERFEED_MAIL_FROM='not an address'" in refused.output
    assert "Traceback" not in refused.output and inbox.messages == []
    monkeypatch.setenv("PAPERFEED_MAIL_FROM", "Labo Pâpers, Inc <papers@example.org>")
    sent = runner.invoke(main, ["digest", "send", "--for", "2026-08-21", "--quiet"])
    assert sent.exit_code == 0 and "sent 1, failed 0" in sent.output, sent.output
    [message] = inbox.messages
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Labo Pâpers, Inc", "papers@example.org")
    store.close()


def test_subscribing_sends_the_confirmation_not_every_digest_waiting(
    mail_site: Site, inbox: Inbox
) -> None:
    """A visitor's subscribe request sent every due message in the outbox (a run's
    worth of digests waiting after an SMTP outage) before it answered."""
    for number in range(3):
        address = f"waiting{number}@example.org"
        confirm_subscription(mail_site.store, subscribe(mail_site.store, address).id)
    engine = SearchEngine(mail_site.store, mail_site.settings)
    queued = queue_digests(
        mail_site.store, engine, mail_site.settings, "daily", period="2026-08-21"
    )
    assert queued.queued == 3 and outbox_counts(mail_site.store) == {"pending": 3}
    with mail_site.client() as client:
        answer = client.post("/api/subscriptions", json={"email": "newcomer@example.org"})
    assert answer.status_code == 202
    assert [message["To"] for message in inbox.messages] == ["newcomer@example.org"]
    assert outbox_counts(mail_site.store) == {"pending": 3, "sent": 1}
    assert _send(mail_site, period=None)[1].sent == 3  # the next run sends them


def _topic_rows(page: str) -> list[tuple[str, str]]:
    queries = re.findall(r'<input type="text" name="topic" value="([^"]*)"', page)
    relevances = re.findall(r'<input type="number" name="relevance" value="([^"]*)"', page)
    return list(zip(queries, relevances, strict=True))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_refused_subscribe_or_manage_form_keeps_the_topics_typed(
    mail_site: Site, inbox: Inbox
) -> None:
    """One bad topic (or a mistyped address) used to bring the form back with every
    topic row empty: the reader typed them all again."""
    with mail_site.client() as client:
        form = client.get("/subscribe").text
        typed = {
            "email": "reader@example.org",
            "frequency": "weekly",
            "time_zone": "Europe/Paris",
            "topic": ["KL divergence cat:cs.LG", "cat:", "video generation"],
            "relevance": ["0.55", "0.3", "0.4"],
            "csrf_token": csrf_of(form),
        }
        refused = client.post("/subscribe", data=typed)
        assert refused.status_code == 400 and "has no words or categories" in refused.text
        rows = _topic_rows(refused.text)
        assert rows[:3] == [
            ("KL divergence cat:cs.LG", "0.55"),
            ("cat:", "0.3"),
            ("video generation", "0.4"),
        ]
        assert 'value="reader@example.org"' in refused.text
        assert 'value="weekly" checked' in refused.text
        assert '<option value="Europe/Paris" selected>' in refused.text

        subscribed = client.post("/subscribe", data=typed | {"topic": ["diffusion"]})
        assert subscribed.status_code == 200, subscribed.text
        confirm_url = re.search(r"(http\S+/subscribe/confirm\?token=\S+)", _text(inbox.messages[0]))
        assert confirm_url
        page = client.get(_local(confirm_url.group(1)))
        manage_url = re.search(r'href="http[^"]+(/subscribe/manage\?token=[^"]+)"', page.text)
        assert manage_url
        manage = client.get(manage_url.group(1).replace("&amp;", "&")).text
        token = re.search(r'name="token" value="([^"]+)"', manage)
        assert token
        changed = client.post(
            "/subscribe/manage",
            data={
                "token": token.group(1),
                "frequency": "daily",
                "time_zone": "Asia/Tokyo",
                "topic": ["diffusion", "speech recognition"],
                "relevance": ["0.5", "7"],
                "csrf_token": csrf_of(manage),
                "action": "save",
            },
        )
        assert changed.status_code == 400 and "must be 0..1" in changed.text
        assert _topic_rows(changed.text)[:2] == [("diffusion", "0.5"), ("speech recognition", "7")]
        assert '<option value="Asia/Tokyo" selected>' in changed.text
