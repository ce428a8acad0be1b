"""The ``/admin`` pages: open reports, users, invites, hidden papers and the audit log,
with the forms that act on them (each posts, then goes back to its section)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperfeed import administration, moderation
from paperfeed.accounts import RateLimitedError, User, check_rate
from paperfeed.administration import Actor
from paperfeed.ingest.identifiers import url_id
from paperfeed.search import SearchEngine
from paperfeed.store import Store
from paperfeed.store.comments import find_comment
from paperfeed.web.admin_access import ADMIN_ERRORS, form_admin, http_error, page_admin
from paperfeed.web.row_ids import CommentId, InviteId, ReportId, UserId
from paperfeed.web.security import check_csrf, session_user, settings_of, store_of
from paperfeed.web.templating import page_posted_from, render, safe_next

router = APIRouter(include_in_schema=False)

SECTIONS = (
    ("reports", "/admin", "Reports"),
    ("users", "/admin/users", "Users"),
    ("invites", "/admin/invites", "Invites"),
    ("papers", "/admin/papers", "Hidden papers"),
    ("audit", "/admin/audit", "Audit log"),
)
PageAdmin = Annotated[User, Depends(page_admin)]
# reports per user per window of seconds: enough for honest use, not for flooding admins
REPORT_RATE_LIMIT = (20, 3600)


def refresh_search(request: Request) -> None:
    """This process's search forgets hidden papers at once (others within seconds)."""
    engine: SearchEngine = request.app.state.engine
    engine.refresh_hidden(force=True)


def _section(
    request: Request,
    section: str,
    status_code: int = 200,
    data: dict[str, Any] | None = None,
    **values: Any,
) -> HTMLResponse:
    """The admin page of ``section``: its ``data`` (read afresh when not given), and
    ``values`` over it."""
    store = store_of(request)
    context: dict[str, Any] = {
        "sections": SECTIONS,
        "section": section,
        "open_reports": moderation.count_open_reports(store),
        "error": None,
        "new_invite": None,
        "typed": {},
    }
    context |= _section_data(store, section, request) if data is None else data
    return render(request, "admin.html", context | values, status_code=status_code)


def _section_data(store: Store, section: str, request: Request) -> dict[str, Any]:
    if section == "reports":
        reports = moderation.open_reports(store)
        papers = store.get_papers(sorted({report.paper_key for report in reports}))
        recent = administration.audit_log(store, limit=10)
        return {"reports": reports, "report_papers": papers, "entries": recent}
    if section == "users":
        return users_page_data(store)
    if section == "invites":
        return {
            "invites": administration.list_invites(store),
            "invite_state": administration.invite_state,
            "invite_days": settings_of(request).invite_days,
            "signup_policy": settings_of(request).signup,
        }
    if section == "papers":
        return {"hidden": moderation.hidden_papers(store)}
    return audit_page_data(store)


# Entries a page of /admin/audit shows, newest first; older ones on the next pages.
AUDIT_A_PAGE = 200


def audit_page_data(store: Store, page: int = 1) -> dict[str, Any]:
    """Page ``page`` of the audit log (past the last page: the last)."""
    total, entries = administration.audit_page(store, (page - 1) * AUDIT_A_PAGE, AUDIT_A_PAGE)
    pages = max(1, -(-total // AUDIT_A_PAGE))
    if page > pages:
        page = pages
        total, entries = administration.audit_page(store, (page - 1) * AUDIT_A_PAGE, AUDIT_A_PAGE)
    return {"entries": entries, "audit_total": total, "audit_page": page, "audit_pages": pages}


# Users a page of /admin/users lists: a lab's whole list on one page, a big site's in pages.
USERS_A_PAGE = 100


def users_page_data(store: Store, matching: str = "", page: int = 1) -> dict[str, Any]:
    """Page ``page`` of the users whose address or name holds ``matching`` (past the last
    page: the last)."""
    matching = matching.strip()
    offset = (page - 1) * USERS_A_PAGE
    total, users = administration.users_page(store, matching, offset, USERS_A_PAGE)
    pages = max(1, -(-total // USERS_A_PAGE))
    if page > pages:  # past the last page (a stale link): the last one
        page, offset = pages, (pages - 1) * USERS_A_PAGE
        total, users = administration.users_page(store, matching, offset, USERS_A_PAGE)
    return {
        "users": users,
        "users_matching": matching,
        "users_total": total,
        "users_offset": offset,
        "users_page": page,
        "users_pages": pages,
    }


def _back(section: str) -> RedirectResponse:
    path = dict((name, path) for name, path, _ in SECTIONS)[section]
    return RedirectResponse(path, status_code=303)


def _back_to_user(request: Request, next_field: str, user_id: int) -> RedirectResponse:
    """Back to the page of the users list the action was on (its search and page kept),
    at the user's row; a list it was not posted from: the first page."""
    back = page_posted_from(request, next_field).partition("#")[0]
    if urlsplit(back).path != "/admin/users":
        back = "/admin/users"
    return RedirectResponse(f"{back}#user-{user_id}", status_code=303)


def _failed(request: Request, section: str, error: Exception, **typed: str) -> HTMLResponse:
    """The section again, with the error above it and the error's status, and its form
    holding what was ``typed``."""
    status = http_error(error).status_code
    return _section(request, section, status_code=status, error=str(error.args[0]), typed=typed)


# -- pages ---------------------------------------------------------------------------------


@router.get("/admin", response_class=HTMLResponse)
def reports_page(request: Request, _admin: PageAdmin) -> HTMLResponse:
    return _section(request, "reports")


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    _admin: PageAdmin,
    q: Annotated[str, Query(description="only users whose address or name holds this")] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    return _section(request, "users", data=users_page_data(store_of(request), q, page))


@router.get("/admin/invites", response_class=HTMLResponse)
def invites_page(request: Request, _admin: PageAdmin) -> HTMLResponse:
    return _section(request, "invites")


@router.get("/admin/papers", response_class=HTMLResponse)
def papers_page(request: Request, _admin: PageAdmin) -> HTMLResponse:
    return _section(request, "papers")


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, _admin: PageAdmin, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1
) -> HTMLResponse:
    return _section(request, "audit", data=audit_page_data(store_of(request), page))


# -- users ----------------------------------------------------------------------------------

USER_ACTIONS = ("promote", "demote", "disable", "enable")


@router.post("/admin/users/{user_id}/password")
def user_password(
    request: Request,
    user_id: UserId,
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form(""),
) -> Response:
    actor = form_admin(request, csrf_token)
    store = store_of(request)
    try:
        user = administration.find_user(store, user_id)
        administration.reset_password(store, actor, user, password)
    except ADMIN_ERRORS as error:
        return _failed(request, "users", error)
    return _back_to_user(request, next, user_id)


# (after /password, which this pattern would take)
@router.post("/admin/users/{user_id}/{action}")
def user_action(
    request: Request,
    user_id: UserId,
    action: str,
    csrf_token: str = Form(""),
    hide_comments: str = Form(""),
    next: str = Form(""),
) -> Response:
    actor = form_admin(request, csrf_token)
    if action not in USER_ACTIONS:
        raise HTTPException(404, f"unknown user action {action!r}")
    store = store_of(request)
    try:
        user = administration.find_user(store, user_id)
        if action == "promote":
            administration.promote(store, actor, user)
        elif action == "demote":
            administration.demote(store, actor, user)
        elif action == "disable":
            administration.disable(store, actor, user, hide_comments=bool(hide_comments))
        else:
            administration.enable(store, actor, user)
    except ADMIN_ERRORS as error:
        return _failed(request, "users", error)
    return _back_to_user(request, next, user_id)


# -- invites --------------------------------------------------------------------------------


@router.post("/admin/invites", response_class=HTMLResponse)
def create_invite(
    request: Request, email: str = Form(""), days: str = Form(""), csrf_token: str = Form("")
) -> HTMLResponse:
    """Make an invite and show its link (once: only its hash is kept)."""
    actor = form_admin(request, csrf_token)
    settings = settings_of(request)
    try:
        validity = float(days) if days.strip() else settings.invite_days
    except ValueError:
        error = administration.AdminError(f"invite validity {days!r} is not a number of days")
        return _failed(request, "invites", error, email=email, days=days)
    try:
        invite, token = administration.create_invite(
            store_of(request), actor, email or None, validity
        )
    except ADMIN_ERRORS as error:
        return _failed(request, "invites", error, email=email, days=days)
    link = administration.invite_link(settings.base_url, token)
    return _section(request, "invites", new_invite={"invite": invite, "link": link})


@router.post("/admin/invites/{invite_id}/revoke")
def revoke_invite(request: Request, invite_id: InviteId, csrf_token: str = Form("")) -> Response:
    actor = form_admin(request, csrf_token)
    try:
        administration.revoke_invite(store_of(request), actor, invite_id)
    except ADMIN_ERRORS as error:
        return _failed(request, "invites", error)
    return _back("invites")


# -- comments and reports ---------------------------------------------------------------------


def _comment_action(request: Request, actor: Actor, comment_id: int, action: str) -> None:
    store = store_of(request)
    if action == "restore":
        moderation.restore_comment(store, actor, comment_id)
    else:
        moderation.remove_comment(store, actor, comment_id, action)


@router.post("/admin/comments/{comment_id}/{action}")
def comment_action(
    request: Request,
    comment_id: CommentId,
    action: str,
    csrf_token: str = Form(""),
    next: str = Form(""),
) -> Response:
    """Hide, delete or restore a comment; back to the page the button was on."""
    actor = form_admin(request, csrf_token)
    if action not in ("hide", "delete", "restore"):
        raise HTTPException(404, f"unknown comment action {action!r}")
    try:
        _comment_action(request, actor, comment_id, action)
    except ADMIN_ERRORS as error:
        return _failed(request, "reports", error)
    return RedirectResponse(safe_next(next, "/admin"), status_code=303)


@router.post("/admin/reports/{report_id}/dismiss")
def dismiss_report(request: Request, report_id: ReportId, csrf_token: str = Form("")) -> Response:
    actor = form_admin(request, csrf_token)
    try:
        moderation.dismiss_report(store_of(request), actor, report_id)
    except ADMIN_ERRORS as error:
        return _failed(request, "reports", error)
    return _back("reports")


# -- papers --------------------------------------------------------------------------------


@router.post("/admin/papers/hide")
def hide_paper(
    request: Request, arxiv_id: str = Form(""), reason: str = Form(""), csrf_token: str = Form("")
) -> Response:
    actor = form_admin(request, csrf_token)
    try:
        moderation.hide_paper(store_of(request), actor, arxiv_id, reason)
    except ADMIN_ERRORS as error:
        return _failed(request, "papers", error, arxiv_id=arxiv_id, reason=reason)
    refresh_search(request)
    return _back("papers")


@router.post("/admin/papers/{arxiv_id:path}/unhide")
def unhide_paper(request: Request, arxiv_id: str, csrf_token: str = Form("")) -> Response:
    actor = form_admin(request, csrf_token)
    try:
        moderation.unhide_paper(store_of(request), actor, arxiv_id)
    except ADMIN_ERRORS as error:
        return _failed(request, "papers", error)
    refresh_search(request)
    return _back("papers")


# -- a signed-in user's report of a comment -----------------------------------------------------


@router.post("/comments/{comment_id}/report", response_class=HTMLResponse)
def report_form(
    request: Request, comment_id: CommentId, reason: str = Form(""), csrf_token: str = Form("")
) -> HTMLResponse:
    """The "report" form under a comment: a page saying it was sent, or why not."""
    user = session_user(request)
    if user is None:
        raise HTTPException(303, "sign in first", headers={"Location": "/signin"})
    check_csrf(request, csrf_token)
    store = store_of(request)
    try:
        check_rate(store, f"report:user:{user.id}", *REPORT_RATE_LIMIT)
        moderation.report_comment(store, user, comment_id, reason)
    except (*ADMIN_ERRORS, RateLimitedError) as error:
        raise http_error(error) from None
    comment = find_comment(store, comment_id)
    papers = store.get_papers([comment.paper_key]) if comment else {}
    paper = papers.get(comment.paper_key) if comment else None
    back = f"/papers/{url_id(paper.arxiv_id)}#comment-{comment_id}" if paper else "/"
    return render(request, "reported.html", {"comment_id": comment_id, "back": back})
