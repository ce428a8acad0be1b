"""Password reset by mail: a signed, expiring, single-use link.

The link's token is a random value signed with the site's secret key (itsdangerous,
with a salt of its own, so no other signed link of the site can stand in for it) and
stamped with its time; the database keeps only the random value's SHA-256, with an
expiry and the moment it was used. So a link is refused when forged or cut short
(signature), after RESET_SECONDS (signature age and the stored expiry), and once used
(the stored row, marked by one conditional update: of two concurrent uses one wins).
Using it sets the password and ends every session, API token and other reset link of
the account. Asking for a link answers the same whether or not the address has an
account; the caller does the look-up and mailing after answering (see
``digest.account_mail``), so the time taken says nothing either.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from paperfeed.accounts import (
    AccountError,
    RateLimitedError,
    User,
    check_new_password,
    set_password,
)
from paperfeed.mail_addresses import AddressError, canonical_address, inbox_of
from paperfeed.store import Store
from paperfeed.store import accounts as account_rows
from paperfeed.store import attempts as attempt_rows
from paperfeed.store import password_resets as reset_rows

RESET_SECONDS = 3600
# links asked for per inbox (every spelling of it) and per client, per hour
RESET_LIMIT_PER_INBOX = (3, 3600.0)
RESET_LIMIT_PER_CLIENT = (10, 3600.0)
_SALT = "paperfeed-password-reset"


class ResetLinkError(ValueError):
    """A reset link that is not valid, has expired or was used; the message says which."""


@dataclass(frozen=True)
class IssuedReset:
    """A new reset link's token, for the account it resets."""

    user: User
    token: str


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def check_reset_rate(store: Store, email: str, client: str, now: float | None = None) -> None:
    """Count one request for a link per inbox and per client.

    Raises:
        RateLimitedError: too many links asked for this inbox or from this client.
    """
    moment = time.time() if now is None else now
    for bucket, (limit, window) in (
        (f"reset-inbox:{inbox_of(email)}", RESET_LIMIT_PER_INBOX),
        (f"reset-client:{client}", RESET_LIMIT_PER_CLIENT),
    ):
        if not attempt_rows.claim_window_attempt(store, bucket[:400], moment, limit, window):
            _, started = attempt_rows.attempts_of(store, bucket[:400])
            wait = max(1, int(started + window - moment + 0.999))
            raise RateLimitedError(
                f"too many password-reset requests ({limit} an hour); try again in "
                f"{max(1, round(wait / 60))} minutes",
                retry_after=wait,
            )


def issue_reset(
    store: Store, secret_key: str, email: str, now: float | None = None
) -> IssuedReset | None:
    """A new reset link for the account of ``email``, or None when there is none, it is
    disabled (a reset would not let it sign in), or the text is no address: the caller
    answers the same either way."""
    try:
        address = canonical_address(email)
    except AddressError:
        return None
    user = account_rows.find_user_by_email(store, address)
    if user is None or user.disabled_at is not None:
        return None
    moment = time.time() if now is None else now
    secret = secrets.token_urlsafe(32)
    reset_rows.insert_reset(store, user.id, _hash(secret), moment, moment + RESET_SECONDS)
    return IssuedReset(user, _serializer(secret_key).dumps(secret))


def _secret_of(secret_key: str, token: str) -> str:
    try:
        value = _serializer(secret_key).loads(token[:1000], max_age=RESET_SECONDS)
    except SignatureExpired:
        raise ResetLinkError(
            "this password-reset link has expired (links work for an hour): ask for a new one"
        ) from None
    except BadSignature:
        raise ResetLinkError(
            "this password-reset link is not valid (it may be cut short): ask for a new one"
        ) from None
    if not isinstance(value, str):
        raise ResetLinkError("this password-reset link is not valid: ask for a new one")
    return value


def _explain(row: reset_rows.ResetRow | None, now: float) -> ResetLinkError:
    if row is None:
        return ResetLinkError(
            "this password-reset link is no longer valid (a newer one, a password change "
            "or a deleted account ended it): ask for a new one"
        )
    if row.used_at is not None:
        return ResetLinkError(
            "this password-reset link was used already; each link works once: ask for a "
            "new one if you need to"
        )
    return ResetLinkError(
        "this password-reset link has expired (links work for an hour): ask for a new one"
    )


def check_reset_link(store: Store, secret_key: str, token: str, now: float | None = None) -> User:
    """The account an unused, unexpired link resets (for showing the form).

    Raises:
        ResetLinkError: saying whether the link is not valid, expired or used.
    """
    moment = time.time() if now is None else now
    secret_hash = _hash(_secret_of(secret_key, token))
    row = reset_rows.find_reset(store, secret_hash)
    if row is None or row.used_at is not None or row.expires_at <= moment:
        raise _explain(row, moment)
    user = account_rows.find_user(store, row.user_id)
    if user is None:
        raise _explain(None, moment)
    return user


def reset_password(
    store: Store, secret_key: str, token: str, new_password: str, now: float | None = None
) -> User:
    """Use a link: set the new password, end every session, API token and other link.

    Raises:
        AccountError: the new password is too short (the link stays usable).
        ResetLinkError: the link is not valid, expired or used.
    """
    moment = time.time() if now is None else now
    secret_hash = _hash(_secret_of(secret_key, token))
    check_new_password(new_password)
    user_id = reset_rows.use_reset(store, secret_hash, moment)
    if user_id is None:
        raise _explain(reset_rows.find_reset(store, secret_hash), moment)
    user = account_rows.find_user(store, user_id)
    if user is None:
        raise _explain(None, moment)
    # every other link ends; this one stays, marked used, so a second use says so
    return set_password(store, user, new_password, keep_reset=secret_hash)


__all__ = [
    "AccountError",
    "IssuedReset",
    "ResetLinkError",
    "check_reset_link",
    "check_reset_rate",
    "issue_reset",
    "reset_password",
]
