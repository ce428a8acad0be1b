"""The admin JSON API under ``/api/admin``, the same actions as the ``/admin`` pages, and
the signed-in user's report of a comment (``POST /api/comments/{id}/report``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from paperfeed import administration, moderation
from paperfeed.accounts import RateLimitedError, User, check_rate
from paperfeed.administration import Actor, Invite
from paperfeed.calendar_dates import iso_moment
from paperfeed.store import Store
from paperfeed.store.administration import AuditEntry, UserSummary
from paperfeed.store.moderation import HiddenPaper, Report
from paperfeed.web import schema_hints  # noqa: F401  (registers the {id:arxiv} convertor)
from paperfeed.web.admin import REPORT_RATE_LIMIT, refresh_search
from paperfeed.web.admin_access import (
    ADMIN_ERRORS,
    api_admin_reader,
    api_admin_writer,
    http_error,
)
from paperfeed.web.row_ids import CommentId, InviteId, ReportId, UserId
from paperfeed.web.security import api_user, settings_of, store_of

router = APIRouter(prefix="/api/admin", tags=["admin"])
reports_router = APIRouter(prefix="/api", tags=["discussion"])
Reader = Annotated[User, Depends(api_admin_reader)]
Writer = Annotated[User, Depends(api_admin_writer)]


def user_json(user: UserSummary) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "disabled": user.disabled_at is not None,
        "disabledAt": iso_moment(user.disabled_at),
        "createdAt": iso_moment(user.created_at),
        "comments": user.comments,
    }


def invite_json(invite: Invite) -> dict[str, Any]:
    return {
        "id": invite.id,
        "email": invite.email,
        "state": administration.invite_state(invite),
        "createdAt": iso_moment(invite.created_at),
        "expiresAt": iso_moment(invite.expires_at),
        "usedAt": iso_moment(invite.used_at),
    }


def report_json(report: Report) -> dict[str, Any]:
    return {
        "id": report.id,
        "comment": report.comment_id,
        "commentText": report.comment_text,
        "commentAuthor": report.comment_author,
        "reporter": report.reporter,
        "reason": report.reason,
        "createdAt": iso_moment(report.created_at),
        "resolution": report.resolution,
    }


def hidden_json(paper: HiddenPaper) -> dict[str, Any]:
    return {
        "paper": paper.arxiv_id,
        "title": paper.title,
        "hiddenAt": iso_moment(paper.hidden_at),
        "reason": paper.reason,
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": iso_moment(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "detail": entry.detail,
    }


class DisableIn(BaseModel):
    hideComments: bool = Field(False, description="also hide every comment they wrote")


class PasswordIn(BaseModel):
    password: str = Field(description="the new password (at least 8 characters)")


class InviteIn(BaseModel):
    email: str | None = Field(None, description="only this address may use the invite")
    days: float | None = Field(None, description="validity in days (default: the site's)")


class ReasonIn(BaseModel):
    reason: Any = Field("", description="why (shown to the admins)")


# -- reading ---------------------------------------------------------------------------------

# Past any list's end, and within what SQLite's and PostgreSQL's OFFSET take (a 64-bit
# integer): a bigger one answered 500 (SQLite: "Python int too large", PostgreSQL:
# "bigint out of range") instead of naming the bad value.
MAX_OFFSET = 1_000_000_000


@router.get("/users", summary="Users, oldest first (admins only)")
def list_users(
    request: Request,
    _admin: Reader,
    q: Annotated[str, Query(description="only users whose address or name holds this")] = "",
    limit: Annotated[int | None, Query(ge=1, le=10_000, description="at most this many")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="skip this many first")] = 0,
) -> dict[str, Any]:
    total, users = administration.users_page(store_of(request), q, offset, limit)
    return {"total": total, "users": [user_json(user) for user in users]}


@router.get("/invites", summary="Invites, newest first (admins only)")
def list_invites(request: Request, _admin: Reader) -> dict[str, Any]:
    invites = administration.list_invites(store_of(request))
    return {
        "signup": settings_of(request).signup,
        "invites": [invite_json(invite) for invite in invites],
    }


@router.get("/reports", summary="Open reports of comments, oldest first (admins only)")
def list_reports(request: Request, _admin: Reader) -> dict[str, Any]:
    return {
        "reports": [report_json(report) for report in moderation.open_reports(store_of(request))]
    }


@router.get("/papers/hidden", summary="Papers hidden by a moderator (admins only)")
def list_hidden(request: Request, _admin: Reader) -> dict[str, Any]:
    return {"papers": [hidden_json(paper) for paper in moderation.hidden_papers(store_of(request))]}


@router.get("/audit", summary="The audit log of admin actions, newest first (admins only)")
def list_audit(
    request: Request,
    _admin: Reader,
    limit: Annotated[int, Query(ge=1, le=1_000, description="at most this many")] = 200,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="skip this many newest first")
    ] = 0,
) -> dict[str, Any]:
    total, entries = administration.audit_page(store_of(request), offset, limit)
    return {"total": total, "entries": [audit_json(entry) for entry in entries]}


# -- users ------------------------------------------------------------------------------------


def _user_after(request: Request, user_id: int) -> dict[str, Any]:
    return user_json(administration.user_summary(store_of(request), user_id))


def _change_user(
    request: Request, user_id: int, admin: User, change: Callable[[Store, Actor, User], User]
) -> dict[str, Any]:
    """Apply an administration change to the user ``user_id``; the user as it is after."""
    store = store_of(request)
    try:
        change(store, Actor.of(admin), administration.find_user(store, user_id))
    except ADMIN_ERRORS as error:
        raise http_error(error) from None
    return _user_after(request, user_id)


@router.post("/users/{user_id}/promote", summary="Make a user an admin")
def promote(request: Request, user_id: UserId, admin: Writer) -> dict[str, Any]:
    return _change_user(request, user_id, admin, administration.promote)


@router.post("/users/{user_id}/demote", summary="Make an admin a plain user")
def demote(request: Request, user_id: UserId, admin: Writer) -> dict[str, Any]:
    return _change_user(request, user_id, admin, administration.demote)


@router.post(
    "/users/{user_id}/disable", summary="Disable a user: their sessions and tokens end at once"
)
def disable(
    request: Request, user_id: UserId, admin: Writer, body: DisableIn | None = None
) -> dict[str, Any]:
    store = store_of(request)
    hide = body.hideComments if body is not None else False
    try:
        user = administration.find_user(store, user_id)
        hidden = administration.disable(store, Actor.of(admin), user, hide_comments=hide)
    except ADMIN_ERRORS as error:
        raise http_error(error) from None
    return _user_after(request, user_id) | {"commentsHidden": hidden}


@router.post("/users/{user_id}/enable", summary="Let a disabled user sign in again")
def enable(request: Request, user_id: UserId, admin: Writer) -> dict[str, Any]:
    return _change_user(request, user_id, admin, administration.enable)


@router.post(
    "/users/{user_id}/password",
    summary="Set a user's password; their sessions and tokens end at once",
)
def reset_password(
    request: Request, user_id: UserId, body: PasswordIn, admin: Writer
) -> dict[str, Any]:
    store = store_of(request)
    try:
        user = administration.find_user(store, user_id)
        sessions, tokens = administration.reset_password(
            store, Actor.of(admin), user, body.password
        )
    except ADMIN_ERRORS as error:
        raise http_error(error) from None
    return _user_after(request, user_id) | {"sessionsEnded": sessions, "tokensEnded": tokens}


# -- invites ----------------------------------------------------------------------------------


@router.post("/invites", status_code=201, summary="Make a single-use invite link")
def create_invite(request: Request, admin: Writer, body: InviteIn | None = None) -> dict[str, Any]:
    settings = settings_of(request)
    email = body.email if body is not None else None
    days = body.days if body is not None and body.days is not None else settings.invite_days
    try:
        invite, token = administration.create_invite(
            store_of(request), Actor.of(admin), email, days
        )
    except ADMIN_ERRORS as error:
        raise http_error(error) from None
    return invite_json(invite) | {"link": administration.invite_link(settings.base_url, token)}


@router.post("/invites/{invite_id}/revoke", summary="Revoke an unused invite")
def revoke_invite(request: Request, invite_id: InviteId, admin: Writer) -> dict[str, Any]:
    try:
        administration.revoke_invite(store_of(request), Actor.of(admin), invite_id)
    except ADMIN_ERRORS as error:
        raise http_error(error) from None
    return {"id": invite_id, "state": "revoked"}


# -- comments, reports, papers -------------------------------------------------------------------


def _comment_state(request: Request, comment_id: int, action: str, admin: User) -> dict[str, Any]:
    store = store_of(request)
    actor = Actor.of(admin)
    try:
        if action == "restore":
            comment = moderation.restore_comment(store, actor, comment_id)
        else:
            comment = moderation.remove_comment(store, actor, comment_id, action)
    except ADMIN_ERRORS as error:
        raise http_error(error) from None
    return {"id": comment.id, "moderation": comment.moderation}


@router.post("/comments/{comment_id}/hide", summary="Hide a comment (its text is kept)")
def hide_comment(request: Request, comment_id: CommentId, admin: Writer) -> dict[str, Any]:
    return _comment_state(request, comment_id, "hide", admin)


@router.post("/comments/{comment_id}/delete", summary="Delete a comment's text for good")
def delete_comment(request: Request, comment_id: CommentId, admin: Writer) -> dict[str, Any]:
    return _comment_state(request, comment_id, "delete", admin)


@router.post("/comments/{comment_id}/restore", summary="Show a hidden comment again")
def restore_comment(request: Request, comment_id: CommentId, admin: Writer) -> dict[str, Any]:
    return _comment_state(request, comment_id, "restore", admin)


@router.post("/reports/{report_id}/dismiss", summary="Close a comment's reports, keeping it")
def dismiss_report(request: Request, report_id: ReportId, admin: Writer) -> dict[str, Any]:
    try:
        closed = moderation.dismiss_report(store_of(request), Actor.of(admin), report_id)
    except ADMIN_ERRORS as error:
        raise http_error(error) from None
    return {"id": report_id, "closed": closed}


@router.post("/papers/{id:arxiv}/hide", summary="Hide a paper from lists, feeds and search")
def hide_paper(
    request: Request, id: str, admin: Writer, body: ReasonIn | None = None
) -> dict[str, Any]:
    reason = body.reason if body is not None else ""
    try:
        paper = moderation.hide_paper(store_of(request), Actor.of(admin), id, reason)
    except ADMIN_ERRORS as error:
        raise http_error(error) from None
    refresh_search(request)
    return {"paper": paper.arxiv_id, "hidden": True}


@router.post("/papers/{id:arxiv}/unhide", summary="Show a hidden paper again")
def unhide_paper(request: Request, id: str, admin: Writer) -> dict[str, Any]:
    try:
        paper = moderation.unhide_paper(store_of(request), Actor.of(admin), id)
    except ADMIN_ERRORS as error:
        raise http_error(error) from None
    refresh_search(request)
    return {"paper": paper.arxiv_id, "hidden": False}


# -- a user's report ---------------------------------------------------------------------------


@reports_router.post(
    "/comments/{comment_id}/report",
    status_code=201,
    summary="Report a comment to the admins (once per comment)",
)
def report_comment(
    request: Request,
    comment_id: CommentId,
    body: ReasonIn,
    user: Annotated[User, Depends(api_user)],
) -> dict[str, Any]:
    store = store_of(request)
    try:
        check_rate(store, f"report:user:{user.id}", *REPORT_RATE_LIMIT)
        report_id = moderation.report_comment(store, user, comment_id, body.reason)
    except (*ADMIN_ERRORS, RateLimitedError) as error:
        raise http_error(error) from None
    return {"id": report_id, "comment": comment_id}
