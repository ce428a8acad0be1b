"""One spelling per inbox (issue 19 item 9): the canonical address, and the caps keyed on it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from http_clients import http_client
from paperfeed.mail_addresses import AddressError, canonical_address, inbox_of
from paperfeed.store import schema
from running_site import Site, csrf_of, serve

EXAMPLE_SPELLINGS = [
    "x@example.org",
    "x@example.org.",
    '"x"@example.org',
    "x@EXAMPLE.org",
    "X@Example.ORG.",
    '"x"@EXAMPLE.org.',
]
IDN_SPELLINGS = [
    "x@bücher.example",
    "x@xn--bcher-kva.example",
    "x@BÜCHER.example",
    "x@bücher.example.",
    '"x"@xn--bcher-kva.example',
    "x@XN--BCHER-KVA.example",
]


def test_every_spelling_has_one_canonical_form() -> None:
    assert {canonical_address(a) for a in EXAMPLE_SPELLINGS} == {"x@example.org"}
    assert {canonical_address(a) for a in IDN_SPELLINGS} == {"x@xn--bcher-kva.example"}
    assert canonical_address(r'"a\.b"@example.org') == "a.b@example.org"
    assert inbox_of("X+news@Example.org.") == "x@example.org"
    assert inbox_of("not an address") == "not an address"  # still counted, by itself


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ('"a b"@example.org', '"a b"@example.org'),
        ('"a@b"@example.org', '"a@b"@example.org'),
        ("x@example..org", "x@example..org"),
        ("x@.", "x@."),
        ("x@example.org\n", "line break"),
        ("bob,eve@evil.example", "bob,eve@evil.example"),
        ("x<y@example.org", "x<y@example.org"),
        ("x@example.org>", "x@example.org>"),
        ("x@[127.0.0.1]", "x@[127.0.0.1]"),
        ("x@exa,mple.org", "x@exa,mple.org"),
        ("x@" + "a" * 320 + ".org", "characters"),
    ],
)
def test_what_is_not_an_address_is_refused_by_name(given: str, named: str) -> None:
    with pytest.raises(AddressError) as caught:
        canonical_address(given)
    assert named in str(caught.value)


def _recipients(site: Site) -> list[str]:
    with site.store.engine.connect() as connection:
        return list(
            connection.scalars(
                select(schema.outbox.c.recipient).where(schema.outbox.c.kind == "confirmation")
            )
        )


def test_confirmation_cap_counts_every_spelling_of_one_inbox(site: Site) -> None:
    proxied = replace(site.settings, trusted_proxies=("127.0.0.1",))
    with serve(proxied) as url, http_client(base_url=url) as client:
        answers = {
            spellings[0]: [
                client.post(
                    "/api/subscriptions",
                    json={"email": address},
                    headers={"X-Forwarded-For": f"10.9.{group}.{n}"},  # a new client each time
                ).status_code
                for n, address in enumerate(spellings)
            ]
            for group, spellings in enumerate((EXAMPLE_SPELLINGS, IDN_SPELLINGS))
        }
    assert answers == {
        "x@example.org": [202] * 5 + [429],
        "x@bücher.example": [202] * 5 + [429],
    }
    recipients = _recipients(site)
    assert recipients.count("x@example.org") == 5
    assert recipients.count("x@xn--bcher-kva.example") == 5
    assert len(recipients) == 10  # no other spelling was stored or mailed


def test_sign_up_refuses_another_spelling_of_a_taken_address(site: Site) -> None:
    with site.client() as first, site.client() as second:
        form = first.get("/signup").text
        made = first.post(
            "/signup",
            data={
                "email": "x@bücher.example",
                "password": "correct horse",
                "csrf_token": csrf_of(form),
            },
        )
        assert made.status_code == 303
        form = second.get("/signup").text
        again = second.post(
            "/signup",
            data={
                "email": '"X"@XN--BCHER-KVA.example.',
                "password": "another horse",
                "csrf_token": csrf_of(form),
            },
        )
        assert again.status_code == 400 and "x@xn--bcher-kva.example" in again.text
        # and the owner signs in with any spelling
        form = second.get("/signin").text
        signed = second.post(
            "/signin",
            data={
                "email": "x@BÜCHER.example.",
                "password": "correct horse",
                "csrf_token": csrf_of(form),
            },
        )
        assert signed.status_code == 303
