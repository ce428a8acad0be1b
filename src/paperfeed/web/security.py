"""Who is asking, and whether a state change may go ahead: sessions, CSRF, API tokens.

The session is a cookie signed with the secret key (Starlette's ``SessionMiddleware``,
itsdangerous), ``HttpOnly`` and ``SameSite=Lax``, ``Secure`` when configured. It carries
a random session token whose hash is a row in the database (``accounts.start_session``):
signing out deletes the row and changing the password deletes all of the user's, so a
copied cookie stops working at once. Every
state-changing request from a browser must carry the session's CSRF token, as a form
field or an ``X-CSRF-Token`` header (the synchronizer-token pattern, OWASP CSRF
Prevention Cheat Sheet). API clients authenticate with a bearer token and need no
CSRF token, since a browser never attaches one by itself.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from functools import lru_cache

from fastapi import HTTPException, Request

from paperfeed.accounts import (
    RateLimitedError,
    User,
    end_session,
    start_session,
    token_scope,
    user_for_session,
    user_for_token,
)
from paperfeed.config import Settings
from paperfeed.search import SearchEngine
from paperfeed.store import Store

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def engine_of(request: Request) -> SearchEngine:
    """This process's search engine, reloaded first when ``paperfeed index`` wrote a new
    index (one ``stat``)."""
    engine: SearchEngine = request.app.state.engine
    engine.reload_if_changed()
    return engine


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(network) for network in trusted)


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def is_trusted_proxy(address: str, trusted: tuple[str, ...]) -> bool:
    """Whether ``address`` is one of ``trusted`` (``PAPERFEED_TRUSTED_PROXIES``)."""
    return bool(trusted) and _is_trusted(address, _networks(trusted))


def client_address(request: Request) -> str:
    """The client's address, for per-client rate limits.

    The peer of the connection, unless the peer is one of ``PAPERFEED_TRUSTED_PROXIES``:
    then the right-most ``X-Forwarded-For`` entry that is not a trusted proxy (entries
    to its left were written by the client and can say anything). With no trusted
    proxies (the default) the header is ignored, so rotating it changes nothing.
    """
    peer = request.client.host if request.client else "unknown"
    networks = _networks(settings_of(request).trusted_proxies)
    if not networks or not _is_trusted(peer, networks):
        return peer
    forwarded = [
        entry.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for entry in header.split(",")
        if entry.strip()
    ]
    for entry in reversed(forwarded):
        if not _is_trusted(entry, networks):
            return entry
    return forwarded[0] if forwarded else peer


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse the request (403) unless ``submitted`` (or the header) is the session's token."""
    expected = request.session.get("csrf")
    given = submitted or request.headers.get(CSRF_HEADER) or ""
    if not isinstance(expected, str) or not hmac.compare_digest(expected, given):
        raise HTTPException(
            status_code=403,
            detail="the form has expired or did not come from this site (CSRF token missing "
            "or wrong): reload the page and try again",
        )


def session_user(request: Request) -> User | None:
    """The signed-in user of the session cookie, or None."""
    if "user" in request.state._state:
        cached: User | None = request.state.user
        return cached
    token = request.session.get("session")
    user = user_for_session(store_of(request), token) if isinstance(token, str) else None
    request.state.user = user
    return user


def page_user(request: Request) -> User:
    """The signed-in user of a page; anyone else is sent to sign in, then back here."""
    user = session_user(request)
    if user is None:
        raise HTTPException(
            303, "sign in first", headers={"Location": f"/signin?next={request.url.path}"}
        )
    return user


def sign_in_session(request: Request, user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token prevents session fixation)."""
    sign_out_session(request)
    request.session["session"] = start_session(store_of(request), user)
    request.state.user = user
    csrf_token(request)


def sign_out_session(request: Request) -> None:
    """End the session server-side (its cookie stops working everywhere) and clear it."""
    token = request.session.get("session")
    if isinstance(token, str):
        end_session(store_of(request), token)
    request.session.clear()
    request.state.user = None


def bearer_user(request: Request) -> User | None:
    """The owner of the ``Authorization: Bearer`` token, or None when there is no header.

    Raises:
        HTTPException: 401 for a header that is present but not a valid token.
    """
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "Authorization header must be 'Bearer <token>'")
    user = user_for_token(store_of(request), token.strip())
    if user is None:
        raise HTTPException(401, "the API token is not valid (create one on /account)")
    return user


def api_user(request: Request) -> User:
    """The caller of a state-changing API endpoint: a bearer token, or a browser session
    with its CSRF header. Raises 401 when neither is there."""
    user = bearer_user(request)
    if user is not None:
        token = request.headers["Authorization"].partition(" ")[2].strip()
        if token_scope(store_of(request), token) != "write":
            raise HTTPException(403, "the API token is read-only (create one with write scope)")
        return user
    user = session_user(request)
    if user is None:
        raise HTTPException(401, "sign in or send 'Authorization: Bearer <token>'")
    check_csrf(request, None)
    return user


def domain_http_error(
    error: Exception, statuses: Sequence[tuple[type[Exception], int]]
) -> HTTPException:
    """The HTTP answer to a library error: 429 with ``Retry-After`` for a rate limit, else
    the status of the first class in ``statuses`` the error is an instance of, else 400.
    The message is the library's, which names the bad value."""
    message = error.args[0] if error.args else str(error)
    if isinstance(error, RateLimitedError):
        return HTTPException(429, message, headers={"Retry-After": str(error.retry_after)})
    for kind, status in statuses:
        if isinstance(error, kind):
            return HTTPException(status, message)
    return HTTPException(400, message)
