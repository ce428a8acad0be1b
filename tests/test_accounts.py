"""Accounts as a library: sign-up, sign-in, API tokens, rate limits."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters

from paperfeed import accounts
from paperfeed.config import Settings
from paperfeed.setting_values import SettingsError
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


def test_passwords_are_hashed_with_rfc_9106_s_parameters_by_default(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAPERFEED_ARGON2_PARAMETERS")  # the tests' cheaper cost (conftest)
    settings = Settings.from_environment()
    assert settings.argon2_parameters == (65536, 3, 4)
    accounts.configure_password_hashing(settings.argon2_parameters)
    user = accounts.sign_up(store, "ada@example.org", "correct horse")
    # RFC 9106's second recommended set: 64 MiB, 3 passes, 4 lanes, Argon2id
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert accounts.authenticate(store, "ada@example.org", "correct horse") == user


def test_a_hash_made_with_other_parameters_verifies_and_is_remade_at_sign_in(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts.sign_up(store, "ada@example.org", "correct horse")
    before = find_user_by_email(store, "ada@example.org")
    assert before is not None
    assert extract_parameters(before.password_hash).memory_cost == 1024  # the tests' cost
    # the admin raises the cost: the stored hash still verifies, and is made again with it
    monkeypatch.setenv("PAPERFEED_ARGON2_PARAMETERS", "t=2,m=2048")
    settings = Settings.from_environment()
    assert settings.argon2_parameters == (2048, 2, 4)  # p keeps its default
    accounts.configure_password_hashing(settings.argon2_parameters)
    assert accounts.password_hashing() == (2048, 2, 4)
    assert accounts.authenticate(store, "ada@example.org", "wrong horse") is None
    unchanged = find_user_by_email(store, "ada@example.org")
    assert unchanged is not None and unchanged.password_hash == before.password_hash
    assert accounts.authenticate(store, "ada@example.org", "correct horse") is not None
    after = find_user_by_email(store, "ada@example.org")
    assert after is not None and after.password_hash.startswith("$argon2id$v=19$m=2048,t=2,p=4$")
    assert accounts.authenticate(store, "ada@example.org", "correct horse") is not None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("m=65536,t=3,q=4", "'q=4' is not m=<memory in KiB>, t=<passes> or p=<lanes>"),
        ("65536", "'65536' is not m=<memory in KiB>"),
        ("m=64MiB", "m \\(memory in KiB\\) must be a whole number >= 1"),
        ("t=0", "t \\(passes\\) must be a whole number >= 1"),
        ("m=８", "m \\(memory in KiB\\) must be a whole number >= 1"),
        ("p=256,m=65536", "p \\(lanes\\) must be at most 255"),
        ("m=16,p=4", "m must be at least 8 KiB a lane \\(32\\)"),
        ("m=8388608", "m must be at most 4194304 KiB"),
    ],
)
def test_bad_argon2_parameters_are_refused_naming_the_value(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("PAPERFEED_ARGON2_PARAMETERS", value)
    with pytest.raises(SettingsError, match=message) as raised:
        Settings.from_environment()
    assert f"PAPERFEED_ARGON2_PARAMETERS={value!r}" in str(raised.value)
