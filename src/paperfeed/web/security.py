"""Who is asking, and whether a state change may go ahead: sessions, CSRF, API tokens.

The session is a cookie signed with the secret key (Starlette's ``SessionMiddleware``,
itsdangerous), ``HttpOnly`` and ``SameSite=Lax``, ``Secure`` when configured. Every
state-changing request from a browser must carry the session's CSRF token, as a form
field or an ``X-CSRF-Token`` header (the synchronizer-token pattern, OWASP CSRF
Prevention Cheat Sheet). API clients authenticate with a bearer token and need no
CSRF token, since a browser never attaches one by itself.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request

from paperfeed.accounts import User, user_for_token
from paperfeed.config import Settings
from paperfeed.store import Store
from paperfeed.store.accounts import find_user

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_address(request: Request) -> str:
    """The peer's address, for per-client rate limits."""
    return request.client.host if request.client else "unknown"


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
    user_id = request.session.get("user_id")
    user = find_user(store_of(request), int(user_id)) if isinstance(user_id, int) else None
    request.state.user = user
    return user


def sign_in_session(request: Request, user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token prevents session fixation)."""
    request.session.clear()
    request.session["user_id"] = user.id
    csrf_token(request)


def sign_out_session(request: Request) -> None:
    request.session.clear()


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
        return user
    user = session_user(request)
    if user is None:
        raise HTTPException(401, "sign in or send 'Authorization: Bearer <token>'")
    check_csrf(request, None)
    return user
