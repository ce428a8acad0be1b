"""Accounts as a library: sign-up, sign-in, API tokens, rate limits."""

from __future__ import annotations

import pytest

from paperfeed import accounts
from paperfeed.store import Store
from paperfeed.store.accounts import find_user_by_email


@pytest.fixture
def store(database_url: str) -> Store:
    return Store(database_url)


def test_sign_up_then_sign_in(store: Store) -> None:
    user = accounts.sign_up(store, "  Ada@Example.ORG ", "correct horse", "Ada Lovelace")
    assert (user.email, user.name) == ("ada@example.org", "Ada Lovelace")
    assert user.password_hash.startswith("$argon2id$")  # never the password itself
    assert accounts.authenticate(store, "ADA@example.org", "correct horse") == user
    assert accounts.authenticate(store, "ada@example.org", "wrong horse") is None
    assert accounts.authenticate(store, "nobody@example.org", "correct horse") is None
    with pytest.raises(accounts.DuplicateEmailError, match="ada@example.org"):
        accounts.sign_up(store, "ada@example.org", "another password")


@pytest.mark.parametrize(
    ("email", "password", "name", "message"),
    [
        ("no-at-sign", "long enough", "", "email 'no-at-sign' is not an email address"),
        ("a@b.org\r\nBcc: x@y.org", "long enough", "", "line break"),
        ("a@b.org", "short", "", "at least 8"),
        ("a@b.org", "long enough", "Eve\nSubject: hi", "name 'Eve\\\\nSubject: hi'"),
    ],
)
def test_bad_sign_up_names_the_value(
    store: Store, email: str, password: str, name: str, message: str
) -> None:
    with pytest.raises(accounts.AccountError, match=message):
        accounts.sign_up(store, email, password, name)
    assert find_user_by_email(store, "a@b.org") is None


def test_api_tokens_are_stored_hashed(store: Store) -> None:
    user = accounts.sign_up(store, "t@example.org", "long enough")
    token = accounts.create_api_token(store, user, "script")
    assert token.startswith("pf_") and len(token) > 40
    assert accounts.user_for_token(store, token) == user
    assert accounts.user_for_token(store, token + "x") is None
    assert accounts.user_for_token(store, "not-a-token") is None


def test_rate_limit_counts_within_the_window(store: Store) -> None:
    for _ in range(3):
        accounts.check_rate(store, "signin:client:1.2.3.4", limit=3, window_seconds=60)
    with pytest.raises(accounts.RateLimitedError, match="3 per 1 minutes") as raised:
        accounts.check_rate(store, "signin:client:1.2.3.4", limit=3, window_seconds=60)
    assert raised.value.retry_after == 60
    accounts.check_rate(store, "signin:client:5.6.7.8", limit=3, window_seconds=60)
