"""Sending through a real SMTP server with STARTTLS, implicit TLS and a login (aiosmtpd)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from paperfeed.config import Settings
from paperfeed.digest.sending import Mailer, deliver_due, queue_confirmation
from paperfeed.digest.subscribing import subscribe
from paperfeed.store import Store
from paperfeed.store.subscriptions import outbox_counts
from running_site import free_port

USER, PASSWORD = "mailer", "s3cret password"
# aiosmtpd warns about the implicit-TLS server, which cannot "require TLS" for AUTH
# because the whole connection already is TLS
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@dataclass
class Received:
    messages: list[tuple[bool, bool, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(
            (session.ssl is not None, bool(session.authenticated), envelope.content)
        )
        return "250 OK"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=good)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, cert


def _server(received: Received, certificate: tuple[Path, Path], implicit: bool) -> Controller:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[1]), str(certificate[0]))
    options: dict[str, Any] = {
        "authenticator": _authenticate,
        "auth_required": True,
        "auth_require_tls": True,
    }
    if implicit:
        # the whole connection is TLS; aiosmtpd's auth_require_tls only knows STARTTLS
        options |= {"ssl_context": context, "auth_require_tls": False}
    else:
        options |= {"tls_context": context, "require_starttls": True}
    controller = Controller(received, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    return controller


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_mail_goes_out_encrypted_and_logged_in(
    store: Store, settings: Settings, certificate: tuple[Path, Path], security: str
) -> None:
    received = Received()
    controller = _server(received, certificate, implicit=security == "tls")
    mail = replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_security=security,
        smtp_user=USER,
        smtp_password=PASSWORD,
        smtp_ca_file=str(certificate[1]),
    )
    try:
        queue_confirmation(store, mail, subscribe(store, "tls@example.org"))
        report = deliver_due(store, Mailer(mail))
    finally:
        controller.stop()
    assert report.sent == 1, report.errors
    encrypted, authenticated, content = received.messages[0]
    # (aiosmtpd marks only STARTTLS sessions; implicit TLS is a TLS-only port, so a
    # plain-text client could not have got a mail through it at all)
    assert authenticated and (encrypted or security == "tls")
    assert b"Confirm your paperfeed subscription" in content


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_untrusted_certificate_keeps_the_mail(
    store: Store, settings: Settings, certificate: tuple[Path, Path]
) -> None:
    received = Received()
    controller = _server(received, certificate, implicit=False)
    base = replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_security="starttls",
        smtp_user=USER,
        smtp_ca_file=str(certificate[1]),
    )
    try:
        queue_confirmation(store, base, subscribe(store, "keep@example.org"))
        # (a wrong password is not tried here: aiosmtpd answers a failed AUTH only
        # after the client's 30 s timeout)
        untrusted = deliver_due(
            store, Mailer(replace(base, smtp_password=PASSWORD, smtp_ca_file=""))
        )
    finally:
        controller.stop()
    assert untrusted.failed == 1 and "CERTIFICATE_VERIFY_FAILED" in untrusted.errors[0]
    assert f"127.0.0.1:{controller.port}" in untrusted.errors[0]
    assert received.messages == []
    assert outbox_counts(store) == {"pending": 1}
