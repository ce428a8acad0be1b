"""Accounts: sign-up and sign-in by password, API tokens, votes, submissions, rate limits.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second
recommended parameter set); API tokens are random and stored only as their SHA-256.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from paperfeed.ingest import normalize_arxiv_id
from paperfeed.ingest.arxiv_api import fetch_arxiv_paper
from paperfeed.models import StoredPaper
from paperfeed.search.feeds import total_upvotes
from paperfeed.store import Store
from paperfeed.store import accounts as account_rows
from paperfeed.store.accounts import DuplicateEmailError, User
from paperfeed.store.activity import record_submission
from paperfeed.store.daily import submit_to_daily

__all__ = ["AccountError", "DuplicateEmailError", "RateLimitedError", "User"]

MINIMUM_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "pf_"
# A deliberately loose check: one @, no spaces or control characters, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_hasher = PasswordHasher()
# Verified against when the email is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """Bad account input; the message names the field and the value."""


class RateLimitedError(RuntimeError):
    """Too many attempts in the window; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class VoteResult:
    """A paper's state for one user after a vote or a withdrawal."""

    arxiv_id: str
    upvoted: bool
    upvotes: int


def normalize_email(value: str) -> str:
    """Trim and lower-case an address, or raise ``AccountError`` naming it."""
    if _CONTROL.search(value):
        raise AccountError(f"email {value!r} contains a line break or control character")
    email = value.strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        raise AccountError(f"email {value!r} is not an email address (expected name@example.org)")
    return email


def _check_name(name: str) -> str:
    if _CONTROL.search(name):
        raise AccountError(f"name {name!r} contains a line break or control character")
    name = name.strip()
    if len(name) > 200:
        raise AccountError(f"name is {len(name)} characters long (at most 200)")
    return name


def sign_up(store: Store, email: str, password: str, name: str = "") -> User:
    """Create an account.

    Raises:
        AccountError: bad email, name or too short a password.
        DuplicateEmailError: the address has an account already.
    """
    address = normalize_email(email)
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        raise AccountError(
            f"password is {len(password)} characters long (at least {MINIMUM_PASSWORD_LENGTH})"
        )
    display_name = _check_name(name) or address.split("@")[0]
    return account_rows.insert_user(store, address, display_name, _hasher.hash(password))


def authenticate(store: Store, email: str, password: str) -> User | None:
    """The user with this email and password, or None (either may be wrong)."""
    try:
        address = normalize_email(email)
    except AccountError:
        return None
    user = account_rows.find_user_by_email(store, address)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        account_rows.update_password_hash(store, user.id, _hasher.hash(password))
    return user


def check_rate(store: Store, bucket: str, limit: int, window_seconds: float) -> None:
    """Count one attempt in ``bucket``; raise ``RateLimitedError`` past ``limit``."""
    count = account_rows.record_rate_event(store, bucket, window_seconds, time.time())
    if count > limit:
        minutes = max(1, round(window_seconds / 60))
        raise RateLimitedError(
            f"too many attempts ({limit} per {minutes} minutes); try again later",
            retry_after=int(window_seconds),
        )


# -- API tokens ---------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(store: Store, user: User, label: str = "") -> str:
    """A new personal API token; it is shown once and only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    account_rows.insert_token(store, user.id, _token_hash(token), _check_name(label))
    return token


def user_for_token(store: Store, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    return account_rows.find_token_user(store, _token_hash(token))


# -- votes and submissions ------------------------------------------------------------


def _normalized_id(arxiv_id: str) -> str:
    normalized = normalize_arxiv_id(arxiv_id)
    if normalized is None:
        raise LookupError(f"{arxiv_id!r} is not an arXiv id (expected e.g. 2401.00165)")
    return normalized


def _paper(store: Store, arxiv_id: str) -> StoredPaper:
    normalized = _normalized_id(arxiv_id)
    paper = store.get_paper(normalized)
    if paper is None:
        raise LookupError(f"no paper {normalized!r} in this collection")
    return paper


def _vote_result(store: Store, paper: StoredPaper, upvoted: bool) -> VoteResult:
    return VoteResult(paper.arxiv_id, upvoted, total_upvotes(store, [paper])[paper.key])


def upvote(store: Store, user: User, arxiv_id: str) -> VoteResult:
    """Vote for a paper (a second vote by the same user changes nothing)."""
    paper = _paper(store, arxiv_id)
    account_rows.insert_vote(store, user.id, paper.key)
    return _vote_result(store, paper, True)


def withdraw_vote(store: Store, user: User, arxiv_id: str) -> VoteResult:
    paper = _paper(store, arxiv_id)
    account_rows.delete_vote(store, user.id, paper.key)
    return _vote_result(store, paper, False)


def toggle_vote(store: Store, user: User, arxiv_id: str) -> VoteResult:
    """Vote, or withdraw the vote if the user had voted: what the upvote button does."""
    paper = _paper(store, arxiv_id)
    if account_rows.insert_vote(store, user.id, paper.key):
        return _vote_result(store, paper, True)
    account_rows.delete_vote(store, user.id, paper.key)
    return _vote_result(store, paper, False)


def voted_ids(store: Store, user: User | None, papers: list[StoredPaper]) -> set[str]:
    """The arXiv ids among ``papers`` that ``user`` voted for."""
    if user is None or not papers:
        return set()
    keys = account_rows.voted_keys(store, user.id, [paper.key for paper in papers])
    return {paper.arxiv_id for paper in papers if paper.key in keys}


def submit_paper(
    store: Store,
    user: User,
    arxiv_id: str,
    arxiv_api_url: str | None = None,
    today: date | None = None,
) -> StoredPaper:
    """Put a paper on today's daily list, credited to ``user``.

    A paper not yet in the collection is fetched from the arXiv API at ``arxiv_api_url``
    (when given) and stored first.

    Raises:
        LookupError: not an arXiv id, or no such paper (stored or on arXiv).
        ValueError: the paper is on a daily list already.
        IngestError: the arXiv API could not be reached or answered garbage.
    """
    normalized = _normalized_id(arxiv_id)
    if store.get_paper(normalized) is None and arxiv_api_url:
        fetched = fetch_arxiv_paper(normalized, arxiv_api_url)
        if fetched is None:
            raise LookupError(f"arXiv has no paper {normalized!r}")
        store.upsert_papers([fetched])
    paper = _paper(store, normalized)
    day = (today or datetime.now(UTC).date()).isoformat()
    submitted = submit_to_daily(store, paper.arxiv_id, day, user.name)
    record_submission(store, submitted.key, user.id, time.time())
    return submitted
