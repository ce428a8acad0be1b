"""Account recovery and ownership on the site: forgotten password, deletion, data export.

The pages and their API equivalents (``DELETE /api/account``,
``GET /api/account/export``); the rules live in ``paperfeed.password_reset`` and
``paperfeed.account_data``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Body, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from paperfeed import accounts
from paperfeed.account_data import delete_account, export_account
from paperfeed.config import secret_key_of
from paperfeed.digest.account_mail import mail_password_reset
from paperfeed.password_reset import (
    ResetLinkError,
    check_reset_link,
    check_reset_rate,
    reset_password,
)
from paperfeed.web.security import (
    api_user,
    bearer_user,
    check_csrf,
    client_address,
    domain_http_error,
    page_user,
    session_user,
    settings_of,
    sign_out_session,
    store_of,
)
from paperfeed.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["api"])
MAX_PASSWORD = 1024  # longer is no password anyone types; Argon2 would still hash it


def _page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render with the header's "Sign in" leading to /account afterwards: never back to
    a reset link (used up by then, and its token does not belong in another URL)."""
    return render(request, name, context | {"path": "/account", "query_string": ""}, status_code)


# -- forgotten password ------------------------------------------------------------------


@router.get("/forgot-password", response_class=HTMLResponse)
def forgot_form(request: Request) -> HTMLResponse:
    return _page(request, "forgot_password.html", {"error": None, "email": ""})


@router.post("/forgot-password", response_class=HTMLResponse)
def forgot_submit(
    request: Request,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The same answer whether or not an account uses the address: the look-up and the
    mail happen after the answer is sent, so neither its text nor its time tells."""
    check_csrf(request, csrf_token)
    store = store_of(request)
    try:
        check_reset_rate(store, email, client_address(request))
    except accounts.RateLimitedError as error:
        context = {"error": str(error), "email": email}
        response = _page(request, "forgot_password.html", context, status_code=429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    background.add_task(mail_password_reset, store, settings_of(request), email)
    return _page(request, "forgot_password_sent.html", {"email": email.strip()})


def _link_error(request: Request, error: ResetLinkError) -> HTMLResponse:
    context = {"status": 400, "message": str(error)}
    return _page(request, "error.html", context, status_code=400)


@router.get("/reset-password", response_class=HTMLResponse)
def reset_form(request: Request, token: str = "") -> HTMLResponse:
    settings = settings_of(request)
    try:
        check_reset_link(store_of(request), secret_key_of(settings), token)
    except ResetLinkError as error:
        return _link_error(request, error)
    return _page(request, "reset_password.html", {"token": token, "error": None})


@router.post("/reset-password", response_class=HTMLResponse)
def reset_submit(
    request: Request,
    token: Annotated[str, Form(max_length=2000)] = "",
    new: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    settings = settings_of(request)
    try:
        reset_password(store_of(request), secret_key_of(settings), token, new)
    except ResetLinkError as error:
        return _link_error(request, error)
    except accounts.AccountError as error:
        context = {"token": token, "error": str(error)}
        return _page(request, "reset_password.html", context, status_code=400)
    # every session of the account has ended; this browser's cookie goes too
    sign_out_session(request)
    return _page(request, "reset_password_done.html", {})


# -- deletion and export -------------------------------------------------------------------


@router.get("/account/delete", response_class=HTMLResponse)
def delete_form(request: Request) -> HTMLResponse:
    page_user(request)
    return _page(request, "account_delete.html", {"error": None})


@router.post("/account/delete", response_class=HTMLResponse)
def delete_submit(
    request: Request,
    password: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    user = page_user(request)
    try:
        delete_account(store_of(request), user, password, client_address(request))
    except accounts.RateLimitedError as error:
        return _page(request, "account_delete.html", {"error": str(error)}, status_code=429)
    except accounts.AccountError as error:
        return _page(request, "account_delete.html", {"error": str(error)}, status_code=403)
    sign_out_session(request)
    return _page(request, "account_deleted.html", {})


def _export_response(data: dict[str, Any]) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="paperfeed-account.json"'},
    )


@router.get("/account/export")
def export_page(request: Request) -> Response:
    """The signed-in user's data as a JSON download."""
    user = page_user(request)
    return _export_response(export_account(store_of(request), user))


class AccountDeletion(BaseModel):
    password: str = Field(max_length=MAX_PASSWORD, description="the account's password")


@api_router.get("/account/export")
def api_export(request: Request) -> Response:
    """Your data as JSON: account fields (never the password hash), votes, comments,
    collections with their papers, submissions and the account's own digest
    subscriptions (made, or confirmed, while signed in to it; sign-up does not prove an
    address, so one made by anyone else is not in it). A bearer token or a signed-in
    session."""
    user = bearer_user(request) or session_user(request)
    if user is None:
        raise HTTPException(401, "sign in or send 'Authorization: Bearer <token>'")
    return _export_response(export_account(store_of(request), user))


@api_router.delete("/account")
def api_delete(request: Request, deletion: Annotated[AccountDeletion, Body()]) -> JSONResponse:
    """Delete your account (the password confirms it). Comments are blanked to
    "[deleted]" keeping their threads; votes, collections, sessions and API tokens (this
    one too) are removed. Answers 403 for a wrong password, and to the site's last admin."""
    user = api_user(request)
    try:
        delete_account(store_of(request), user, deletion.password, client_address(request))
    except (accounts.AccountError, accounts.RateLimitedError) as error:
        raise domain_http_error(error, [(accounts.AccountError, 403)]) from None
    return JSONResponse({"deleted": True})
