"""Who may use the admin pages and the admin API, and how admin errors become answers.

Every admin route checks, in this order: signed in (a page redirects to sign-in, the
API answers 401), an enabled admin (403 otherwise), then, for a change made from a
browser, the session's CSRF token (403). Nothing is read or changed before all three
pass.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import HTTPException, Request

from paperfeed.accounts import AccountError, DuplicateEmailError, User
from paperfeed.administration import (
    Actor,
    AdminError,
    InviteError,
    NotAdminError,
    UnknownInviteError,
    UnknownUserError,
)
from paperfeed.moderation import DuplicateReportError, ModerationError, UnknownTargetError
from paperfeed.web.security import (
    api_user,
    bearer_user,
    check_csrf,
    domain_http_error,
    session_user,
)

NOT_ADMIN = "this is for admins only"
ADMIN_ERRORS = (
    AdminError,
    AccountError,
    DuplicateEmailError,
    InviteError,
    ModerationError,
    UnknownUserError,
    UnknownInviteError,
    UnknownTargetError,
    DuplicateReportError,
)
_STATUSES = (
    (NotAdminError, 403),
    (UnknownUserError, 404),
    (UnknownInviteError, 404),
    (UnknownTargetError, 404),
    (DuplicateReportError, 409),
    (DuplicateEmailError, 409),
)


def http_error(error: Exception) -> HTTPException:
    """The HTTP answer to an administration or moderation error."""
    return domain_http_error(error, _STATUSES)


def _admin(user: User) -> User:
    if not user.is_admin:
        raise HTTPException(403, f"{NOT_ADMIN} (signed in as {user.email})")
    return user


def page_admin(request: Request) -> User:
    """The admin viewing an admin page; signed out: a redirect to sign-in (303)."""
    user = session_user(request)
    if user is None:
        target = quote(request.url.path, safe="/")
        raise HTTPException(303, "sign in first", headers={"Location": f"/signin?next={target}"})
    return _admin(user)


def form_admin(request: Request, csrf_token: str) -> Actor:
    """The admin submitting an admin form, after the CSRF check."""
    user = page_admin(request)
    check_csrf(request, csrf_token)
    return Actor.of(user)


def api_admin_reader(request: Request) -> User:
    """The admin reading the admin API: a bearer token or a browser session."""
    user = bearer_user(request) or session_user(request)
    if user is None:
        raise HTTPException(401, "sign in or send 'Authorization: Bearer <token>'")
    return _admin(user)


def api_admin_writer(request: Request) -> User:
    """The admin changing something through the admin API: a bearer token, or a browser
    session with its CSRF header (checked after the role, so a non-admin learns only 403)."""
    user = bearer_user(request) or session_user(request)
    if user is None:
        raise HTTPException(401, "sign in or send 'Authorization: Bearer <token>'")
    _admin(user)
    return api_user(request)
