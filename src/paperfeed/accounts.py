"""Accounts: sign-up and sign-in by password, sessions, API tokens, rate limits (votes
and submissions by signed-in users are ``paperfeed.votes``).

Passwords are hashed with Argon2id (by default argon2-cffi's parameters, RFC 9106's
second recommended set; ``PAPERFEED_ARGON2_PARAMETERS`` changes them); API tokens are
random and stored only as their SHA-256.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from paperfeed.ingest import quoted
from paperfeed.mail_addresses import AddressError, address_key, canonical_address
from paperfeed.store import Store
from paperfeed.store import accounts as account_rows
from paperfeed.store import attempts as attempt_rows
from paperfeed.store import password_resets as reset_rows
from paperfeed.store.accounts import DuplicateEmailError, User
from paperfeed.typed_text import unwritable_character

__all__ = ["AccountError", "DuplicateEmailError", "RateLimitedError", "User"]

_log = logging.getLogger("paperfeed.accounts")
MINIMUM_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "pf_"
_hasher = PasswordHasher()  # argon2-cffi's defaults until configure_password_hashing


def configure_password_hashing(parameters: tuple[int, int, int]) -> None:
    """Hash new passwords with Argon2id at ``(memory in KiB, passes, lanes)``
    (``Settings.argon2_parameters``). A stored hash made with other parameters still
    verifies, and is made again with these at its owner's next sign-in."""
    global _hasher
    memory, passes, lanes = parameters
    if (_hasher.memory_cost, _hasher.time_cost, _hasher.parallelism) != parameters:
        _hasher = PasswordHasher(time_cost=passes, memory_cost=memory, parallelism=lanes)
        _dummy_hash.cache_clear()  # unknown addresses must take as long as known ones


def password_hashing() -> tuple[int, int, int]:
    """The Argon2id parameters new hashes are made with: (memory in KiB, passes, lanes)."""
    return _hasher.memory_cost, _hasher.time_cost, _hasher.parallelism


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both cases take the same time. Made
    on first use: hashing at import cost every command and worker ~150 ms on start."""
    return _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """Bad account input; the message names the field and the value."""


class AccountDisabledError(AccountError):
    """The password was right, but an admin has disabled the account."""


DISABLED_MESSAGE = (
    "this account has been disabled by an admin of this site; "
    "ask the site's admin to enable it again"
)


class RateLimitedError(RuntimeError):
    """Too many attempts in the window; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def normalize_email(value: str) -> str:
    """The canonical form of an address (``paperfeed.mail_addresses``), or raise
    ``AccountError`` naming it."""
    try:
        return canonical_address(value)
    except AddressError as error:
        raise AccountError(str(error)) from None


def _check_name(name: str) -> str:
    problem = unwritable_character(name)
    if problem:
        raise AccountError(f"name {quoted(name)} contains {problem}")
    name = name.strip()
    if len(name) > 200:
        raise AccountError(f"name is {len(name)} characters long (at most 200)")
    return name


def check_sign_up(email: str, password: str, name: str = "") -> tuple[str, str]:
    """The normalised address and display name of a sign-up, checked before anything is
    stored (an invite is used up only by a sign-up that passes).

    Raises:
        AccountError: bad email, name or too short a password.
    """
    address = normalize_email(email)
    check_new_password(password, "password")
    return address, _check_name(name) or address.split("@")[0]


def hash_password(password: str) -> str:
    """The Argon2id hash stored for a password."""
    return _hasher.hash(password)


def sign_up(store: Store, email: str, password: str, name: str = "") -> User:
    """Create an account.

    Raises:
        AccountError: bad email, name or too short a password.
        DuplicateEmailError: the address has an account already.
    """
    address, display_name = check_sign_up(email, password, name)
    return account_rows.insert_user(store, address, display_name, hash_password(password))


def authenticate(store: Store, email: str, password: str) -> User | None:
    """The user with this email and password, or None (either may be wrong).

    Raises:
        AccountDisabledError: the password is right but an admin disabled the account;
            only a right password learns this, so a guesser cannot tell which addresses
            have accounts.
    """
    try:
        address = normalize_email(email)
    except AccountError:
        return None
    user = account_rows.find_user_by_email(store, address)
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if user.disabled_at is not None:  # disabled by an admin: no sign-in
        raise AccountDisabledError(DISABLED_MESSAGE)
    if _hasher.check_needs_rehash(user.password_hash):
        account_rows.update_password_hash(store, user.id, _hasher.hash(password))
    return user


# -- sessions ---------------------------------------------------------------------

SESSION_SECONDS = 30 * 24 * 3600


def start_session(store: Store, user: User, seconds: float = SESSION_SECONDS) -> str:
    """A new session for ``user``: a random token for the cookie; only its hash is kept,
    so ending the session (deleting the row) revokes every copy of the cookie."""
    token = secrets.token_urlsafe(32)
    account_rows.insert_session(store, user.id, _token_hash(token), time.time() + seconds)
    return token


def user_for_session(store: Store, token: str) -> User | None:
    """The user of an unexpired session token, or None."""
    return account_rows.find_session_user(store, _token_hash(token), time.time())


def end_session(store: Store, token: str) -> None:
    """Sign out: the session's token stops working everywhere."""
    account_rows.delete_session(store, _token_hash(token))


def revoke_access(store: Store, user_id: int, keep_reset: str | None = None) -> tuple[int, int]:
    """End every session and revoke every API token and reset link of a user: what a
    password change, a reset and a deletion do, so a stolen cookie, token or old mail
    stops working at once. ``keep_reset`` (a used link's hash) stays, to say "used".

    Returns:
        How many sessions and API tokens ended.
    """
    sessions = account_rows.delete_user_sessions(store, user_id)
    tokens = account_rows.delete_user_tokens(store, user_id)
    reset_rows.delete_user_resets(store, user_id, keep=keep_reset)
    return sessions, tokens


def check_new_password(password: str, field: str = "new password") -> None:
    """Raise ``AccountError`` for a password shorter than MINIMUM_PASSWORD_LENGTH."""
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        raise AccountError(
            f"{field} is {len(password)} characters long (at least {MINIMUM_PASSWORD_LENGTH})"
        )


def replace_password(
    store: Store,
    user_id: int,
    new: str,
    keep_reset: str | None = None,
    field: str = "new password",
) -> tuple[int, int]:
    """Store a new password and revoke all access (``revoke_access``): the one way a
    password is set, by its owner, a reset link or an admin.

    Returns:
        How many sessions and API tokens ended.

    Raises:
        AccountError: too short a password (``field`` names it).
    """
    check_new_password(new, field)
    account_rows.update_password_hash(store, user_id, hash_password(new))
    return revoke_access(store, user_id, keep_reset)


def set_password(store: Store, user: User, new: str, keep_reset: str | None = None) -> User:
    """Store a new password for ``user`` and revoke all access; the user as stored now
    (the role and state kept)."""
    replace_password(store, user.id, new, keep_reset)
    return account_rows.find_user(store, user.id) or user


def change_password(store: Store, user: User, current: str, new: str) -> User:
    """Set a new password after checking the current one; every session and API token
    of the user ends (the caller starts a fresh session for the browser that asked).

    Raises:
        AccountError: the current password is wrong, or the new one is too short.
    """
    checked = authenticate(store, user.email, current)
    if checked is None or checked.id != user.id:
        raise AccountError("the current password is wrong")
    return set_password(store, user, new)


def check_rate(store: Store, bucket: str, limit: int, window_seconds: float) -> None:
    """Count one attempt in ``bucket``; raise ``RateLimitedError`` past ``limit``."""
    count = account_rows.record_rate_event(store, bucket, window_seconds, time.time())
    if count > limit:
        minutes = max(1, round(window_seconds / 60))
        raise RateLimitedError(
            f"too many attempts ({limit} per {minutes} minutes); try again later",
            retry_after=int(window_seconds),
        )


# -- sign-in throttling ---------------------------------------------------------------
#
# Failed sign-ins are counted per (address, client) pair, so an attacker guessing one
# address slows themself down, not the owner signing in from elsewhere. The first
# SIGN_IN_FREE_FAILURES attempts of a pair cost nothing; after that each attempt waits
# SIGN_IN_FIRST_DELAY seconds, doubled per further failure, at most SIGN_IN_MAX_DELAY
# (OWASP Authentication Cheat Sheet: "exponential back-off" rather than lockout). One
# client failing on many addresses (credential stuffing) is capped separately.
#
# An attempt is counted *before* the slow Argon2 check, by one conditional database
# statement (``store.attempts``), so 40 parallel guesses get 5 checks, not 38 (issue 19
# item 6), whichever worker process each lands on; a success then clears its pair and
# is taken back from the client's count. On top, a worker runs at most
# SIGN_IN_IN_FLIGHT sign-ins of one client at once: the rest are refused at once
# instead of queueing for the hashing threads.

SIGN_IN_FREE_FAILURES = 5
SIGN_IN_FIRST_DELAY = 30.0
SIGN_IN_MAX_DELAY = 3600.0
SIGN_IN_MEMORY = 24 * 3600.0  # failures older than this are forgotten
SIGN_IN_CLIENT_FAILURES = (50, 15 * 60.0)  # failures per client over all addresses
SIGN_IN_IN_FLIGHT = 4  # sign-ins of one client checked at once, per worker process
SIGN_IN_PRUNE_ONE_IN = 200  # one sign-in in this many deletes the day-old counters

_in_flight: dict[str, int] = {}
_in_flight_lock = threading.Lock()


def sign_in_delay(failures: int) -> float:
    """Seconds a pair with ``failures`` recent failures waits after its latest one."""
    if failures < SIGN_IN_FREE_FAILURES:
        return 0.0
    doublings = min(failures - SIGN_IN_FREE_FAILURES, 32)
    return float(min(SIGN_IN_FIRST_DELAY * 2.0**doublings, SIGN_IN_MAX_DELAY))


def _sign_in_delays() -> list[float]:
    """``sign_in_delay(n)`` for n = 0, 1, … up to the first that reaches the maximum."""
    delays = [sign_in_delay(0)]
    while delays[-1] < SIGN_IN_MAX_DELAY:
        delays.append(sign_in_delay(len(delays)))
    return delays


def _wait_message(seconds: float) -> str:
    minutes = seconds / 60
    when = f"{max(1, round(seconds))} seconds" if seconds < 120 else f"{round(minutes)} minutes"
    return f"too many failed sign-ins from here; try again in {when}"


def _refusal(seconds: float) -> RateLimitedError:
    return RateLimitedError(_wait_message(seconds), retry_after=max(1, int(seconds + 0.999)))


@contextmanager
def _in_flight_slot(client: str) -> Iterator[None]:
    """Hold one of the client's SIGN_IN_IN_FLIGHT slots, or refuse at once."""
    with _in_flight_lock:
        if _in_flight.get(client, 0) >= SIGN_IN_IN_FLIGHT:
            raise RateLimitedError(
                "too many sign-ins at once from here; try again in a second", retry_after=1
            )
        _in_flight[client] = _in_flight.get(client, 0) + 1
    try:
        yield
    finally:
        with _in_flight_lock:
            left = _in_flight.pop(client) - 1
            if left:
                _in_flight[client] = left


def sign_in(
    store: Store, email: str, password: str, client: str, now: float | None = None
) -> User | None:
    """Check a password, throttled as described above.

    Returns:
        The user, or None for a wrong address or password (counted as a failure).

    Raises:
        AccountDisabledError: the password is right but the account is disabled (not
            counted as a failure: there was no wrong guess to slow down).
        RateLimitedError: this client must wait before trying this address again, or
            has too many sign-ins under way.
    """
    moment = time.time() if now is None else now
    if secrets.randbelow(SIGN_IN_PRUNE_ONE_IN) == 0:
        # now and then, drop the counters nobody has touched for a day
        attempt_rows.forget_attempts_before(store, moment - SIGN_IN_MEMORY)
    pair = f"signin:{client}:{address_key(email)}"[:400]
    by_client = f"signin-client:{client}"[:400]
    if not attempt_rows.claim_spaced_attempt(
        store, pair, moment, _sign_in_delays(), SIGN_IN_MEMORY
    ):
        failures, latest = attempt_rows.attempts_of(store, pair)
        raise _refusal(latest + sign_in_delay(failures) - moment)
    limit, window = SIGN_IN_CLIENT_FAILURES
    if not attempt_rows.claim_window_attempt(store, by_client, moment, limit, window):
        _, started = attempt_rows.attempts_of(store, by_client)
        raise _refusal(started + window - moment)
    try:
        with _in_flight_slot(client):
            user = authenticate(store, email, password)
    except AccountDisabledError:
        _forget_attempt(store, pair, by_client)
        raise
    if user is None:
        return None
    _forget_attempt(store, pair, by_client)
    return user


def _forget_attempt(store: Store, pair: str, by_client: str) -> None:
    """A right password: the pair's failures are cleared and the client's count given back."""
    attempt_rows.clear_attempts(store, pair)
    attempt_rows.release_attempt(store, by_client)


# -- API tokens ---------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# What a token may do: "read" reads the holder's own lists (for-you, collections);
# "write" also votes and changes collections (every token made before scopes existed).
TOKEN_SCOPES = ("read", "write")


def create_api_token(store: Store, user: User, label: str = "", scope: str = "write") -> str:
    """A new personal API token; it is shown once and only its hash is kept.

    Raises:
        AccountError: ``scope`` is not one of ``TOKEN_SCOPES``.
    """
    if scope not in TOKEN_SCOPES:
        raise AccountError(
            f"unknown token scope {quoted(scope)} (expected one of {', '.join(TOKEN_SCOPES)})"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    account_rows.insert_token(store, user.id, _token_hash(token), _check_name(label), scope)
    return token


def token_scope(store: Store, token: str) -> str | None:
    """The scope of a valid token ("read" or "write"), or None for an unknown one."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    return account_rows.find_token_scope(store, _token_hash(token))


def user_for_token(store: Store, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    return account_rows.find_token_user(store, _token_hash(token))
