"""The HTML pages: daily list, trending, search, paper, sign-in, account, submit."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from paperfeed import accounts, administration, moderation, votes
from paperfeed.config import secret_key_of
from paperfeed.digest.subscribing import make_token
from paperfeed.discussion import MAX_COMMENT_CHARACTERS, paper_threads
from paperfeed.ingest import IngestError, normalize_paper_id
from paperfeed.ingest.identifiers import url_id
from paperfeed.models import StoredPaper
from paperfeed.profile import profile_of
from paperfeed.search import SearchError, parse_query
from paperfeed.search.feeds import FeedError, daily_feed, total_upvotes, trending
from paperfeed.search.trends import monthly_trend
from paperfeed.store.accounts import delete_token, list_tokens
from paperfeed.store.subscriptions import Subscription, owned_subscriptions
from paperfeed.web.api import search_filters
from paperfeed.web.charts import BarChart, trend_chart
from paperfeed.web.paper_markdown import markdown_answer, wants_markdown
from paperfeed.web.presentation import arxiv_links, bibtex, vote_json
from paperfeed.web.security import (
    check_csrf,
    client_address,
    engine_of,
    page_user,
    session_user,
    settings_of,
    sign_in_session,
    sign_out_session,
    store_of,
)
from paperfeed.web.sync_pages import grouped_items, status_line
from paperfeed.web.templating import page_posted_from, render, safe_next, sign_in_location

# Two routers: pages at fixed paths, which the app tries first (FastAPI tries each route
# in order, ~2 µs each: /search was found after ~110 others, in 227 µs; now 9 µs), and a
# paper's pages, whose /papers/{arxiv_id:path} must come after the routes it would
# swallow (/papers/{id}.md, .../comments, .../not-for-me).
router = APIRouter(include_in_schema=False)
paper_router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
LIST_PAGE_SIZE = 50  # papers per page of a day, week or month of the daily list
SIGN_UP_LIMIT = (5, 3600)
SUBMIT_LIMIT = (10, 3600)
# The forms on a paper's page post to /papers/<id>/<action> (upvote: below; comments:
# web.discussion; not-for-me: web.triage), each with the part of the page it belongs to.
PAPER_FORM_ANCHORS = {"upvote": "", "comments": "#discussion", "not-for-me": ""}


@router.get("/", response_class=HTMLResponse)
def daily(
    request: Request,
    date: Annotated[str | None, Query(description="a day, YYYY-MM-DD")] = None,
    week: Annotated[str | None, Query(description="an ISO week, YYYY-Www")] = None,
    month: Annotated[str | None, Query(description="a month, YYYY-MM")] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    group: Annotated[str, Query(description="'topics' groups the list by topic")] = "",
) -> HTMLResponse:
    store = store_of(request)
    try:
        feed = daily_feed(store, date, week, month)
    except (FeedError, ValueError) as error:
        raise HTTPException(400, str(error)) from None
    # a month holds some 300+ papers: paged like "New on arXiv", most upvoted first
    pages = max(1, -(-len(feed.items) // LIST_PAGE_SIZE))
    if page > pages:
        raise HTTPException(
            404, f"page {page} is past the last page ({pages}) of the list for {feed.label}"
        )
    shown = feed.items[(page - 1) * LIST_PAGE_SIZE : page * LIST_PAGE_SIZE]
    try:
        topics = grouped_items(engine_of(request), shown, group)  # the page's topics
    except ValueError as error:
        raise HTTPException(400, str(error)) from None
    voted = votes.voted_ids(store, session_user(request), [i.paper for i in shown])
    period = "date" if feed.period == "day" else feed.period

    def page_url(number: int) -> str:
        """Another page of this day, week or month (grouped by topic if this one is)."""
        parameters: dict[str, object] = {period: feed.label}
        if number > 1:
            parameters["page"] = number
        if group:
            parameters["group"] = group
        return "/?" + urlencode(parameters)

    context = {
        "feed": feed,
        "shown": shown,
        "voted": voted,
        "sync": status_line(store),
        "page": page,
        "pages": pages,
        "page_url": page_url,
        "topics": topics,
        "by_key": {item.paper.key: item for item in shown},
        "grouped": group,
    }
    return render(request, "daily.html", context, shown=[item.paper for item in shown])


@router.get("/trending", response_class=HTMLResponse)
def trending_page(request: Request) -> HTMLResponse:
    store = store_of(request)
    half_life = settings_of(request).trending_half_life_hours
    items = trending(store, half_life, limit=50)
    voted = votes.voted_ids(store, session_user(request), [item.paper for item in items])
    return render(
        request,
        "trending.html",
        {"items": items, "voted": voted, "half_life": half_life},
        shown=[item.paper for item in items],
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: str = "",
    cat: Annotated[list[str] | None, Query()] = None,
    since: str | None = None,
    until: str | None = None,
    sort: str = "relevance",
    page: Annotated[int, Query(ge=1, le=500)] = 1,
) -> Response:
    store = store_of(request)
    # the page's category box may hold several, separated by spaces or commas: split
    # and checked by ``with_filters``, one rule for the page, the API and the CLI
    cat = [value.strip() for value in cat or [] if value.strip()]
    context: dict[str, object] = {
        "q": q,
        "cat": cat,
        "since": since or "",
        "until": until or "",
        "sort": sort,
        # "follow as RSS" follows this search, its filters included
        "feed_query": urlencode({"q": q} | search_filters(cat, since, until)),
    }
    if not q.strip() and not cat and not since and not until:
        return render(request, "search.html", context | {"results": None})
    try:
        # parsed once, here: the engine takes the query with the form's filters merged in
        parsed = parse_query(q).with_filters(cat or (), since or None, until or None)
    except SearchError as error:
        raise HTTPException(400, str(error)) from None
    if len(parsed.arxiv_ids) == 1 and not parsed.has_content and not cat:
        paper = store.get_paper(parsed.arxiv_ids[0])
        if paper is not None:
            return RedirectResponse(f"/papers/{url_id(paper.arxiv_id)}", status_code=303)
    try:
        results = engine_of(request).search(
            parsed, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, sort=sort
        )
    except SearchError as error:
        raise HTTPException(400, str(error)) from None
    pages = max(1, -(-results.pageable // PAGE_SIZE))
    if page > pages:  # as the daily lists: no empty "Page 52 of 51"
        raise HTTPException(404, f"page {page} is past the last page ({pages}) of this search")
    papers = [hit.paper for hit in results.hits]
    return render(
        request,
        "search.html",
        context
        | {
            "results": results,
            "upvotes": total_upvotes(store, papers),
            "voted": votes.voted_ids(store, session_user(request), papers),
            "page": page,
            "pages": pages,
            "trend": _search_trend(request, q, cat, since, until),
        },
        shown=papers,
    )


def _search_trend(
    request: Request, q: str, cat: list[str], since: str | None, until: str | None
) -> BarChart | None:
    """The chart of papers per month matching the search, when it has any."""
    try:
        trend = monthly_trend(engine_of(request), q, cat, since or None, until or None)
    except SearchError:
        return None
    return trend_chart(trend)


@paper_router.get("/papers/{arxiv_id:path}", response_class=HTMLResponse)
def paper_page(request: Request, arxiv_id: str) -> Response:
    if wants_markdown(request):  # agents and `hf papers read` ask for the paper as markdown
        return markdown_answer(request, engine_of(request), arxiv_id)
    store = store_of(request)
    paper_id, slash, action = arxiv_id.rpartition("/")
    form_of = normalize_paper_id(paper_id) if slash and action in PAPER_FORM_ANCHORS else None
    if form_of is not None:
        # a form's address opened as a page (bookmarked, typed): the page the form is on,
        # not a 404 saying that "<id>/upvote" is not an arXiv id
        anchor = PAPER_FORM_ANCHORS[action]
        return RedirectResponse(f"/papers/{url_id(form_of)}{anchor}", status_code=303)
    normalized = normalize_paper_id(arxiv_id)
    if normalized is None:
        raise HTTPException(
            404, f"{arxiv_id!r} is not an arXiv id or a DOI (expected e.g. 2401.00165)"
        )
    if normalized != arxiv_id:
        return RedirectResponse(f"/papers/{url_id(normalized)}", status_code=301)
    paper = store.get_paper(normalized)
    if paper is None:
        raise HTTPException(404, f"no paper {normalized} in this paperfeed")
    if paper.arxiv_id != normalized:
        # the DOI of a preprint also on arXiv: one paper, shown at its arXiv id
        return RedirectResponse(f"/papers/{url_id(paper.arxiv_id)}", status_code=301)
    normalized = paper.arxiv_id
    hidden = moderation.is_hidden(store, paper)
    viewer = session_user(request)
    if hidden and not (viewer and viewer.is_admin):  # admins still see it, to show it again
        raise HTTPException(404, f"paper {normalized} was hidden by a moderator")
    return paper_page_answer(request, paper, hidden)


def paper_page_answer(
    request: Request, paper: StoredPaper, hidden: bool, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """The page of ``paper`` (found and visible to the caller), ``values`` added: a refused
    comment's error and text, so the comment form holds what was typed."""
    store = store_of(request)
    try:
        similar = engine_of(request).similar(paper.arxiv_id, limit=8)
    except SearchError:
        similar = []
    counts = total_upvotes(store, [paper] + [hit.paper for hit in similar])
    page = render(
        request,
        "paper.html",
        {
            "paper": paper,
            "upvotes": counts,
            "voted": votes.voted_ids(store, session_user(request), [paper]),
            "similar": similar,
            "links": arxiv_links(paper),
            "bibtex": bibtex(paper),
            "threads": paper_threads(store, paper),
            "max_comment": MAX_COMMENT_CHARACTERS,
            "hidden_by_moderator": hidden,
        }
        | values,
        status_code=status_code,
        shown=[paper] + [hit.paper for hit in similar],
    )
    page.headers["Vary"] = "Accept"  # the same address answers markdown to agents
    return page


@paper_router.post("/papers/{arxiv_id:path}/upvote")
def upvote_form(
    request: Request, arxiv_id: str, csrf_token: str = Form(""), next: str = Form("")
) -> Response:
    """The upvote button: toggles the vote. Answers JSON to scripts; a plain form goes
    back to the page it was on (its ``next`` field, else the Referer)."""
    user = session_user(request)
    wants_json = "application/json" in request.headers.get("accept", "")
    back = page_posted_from(request, next)
    if user is None:
        # nothing changes, so no CSRF check: an anonymous page may be a cached one
        # whose token belongs to another visitor
        if wants_json:
            raise HTTPException(401, "sign in to upvote")
        return RedirectResponse(sign_in_location(back), status_code=303)
    check_csrf(request, csrf_token)
    try:
        result = votes.toggle_vote(store_of(request), user, arxiv_id)
    except LookupError as error:
        raise HTTPException(404, str(error)) from None
    if wants_json:
        return JSONResponse(vote_json(result))
    return RedirectResponse(back, status_code=303)


# -- sign-in --------------------------------------------------------------------------


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """Where browsers and feed readers look for a site's icon when a page names none."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "signin.html", {"next": safe_next(next), "error": None, "email": ""})


@router.post("/signin")
def signin(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    csrf_token: str = Form(""),
) -> Response:
    check_csrf(request, csrf_token)
    store = store_of(request)
    try:
        user = accounts.sign_in(store, email, password, client_address(request))
    except accounts.RateLimitedError as error:
        context = {"next": safe_next(next), "error": str(error), "email": email}
        response = render(request, "signin.html", context, status_code=429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except accounts.AccountDisabledError as error:
        context = {"next": safe_next(next), "error": str(error), "email": email}
        return render(request, "signin.html", context, status_code=403)
    if user is None:
        context = {"next": safe_next(next), "error": "wrong email or password", "email": email}
        return render(request, "signin.html", context, status_code=401)
    sign_in_session(request, user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request, next: str = "/", invite: str = "") -> HTMLResponse:
    """The sign-up form, under the site's policy (``PAPERFEED_SIGNUP``): an invite link
    is checked before the form is shown, and a closed site says so instead."""
    policy = settings_of(request).signup
    context: dict[str, object] = {"next": safe_next(next), "error": None, "email": ""}
    context |= {"name": "", "invite": invite, "invite_email": None, "policy": policy}
    context["refused"] = False
    if policy == "closed":
        message = "sign-up is closed on this site; an admin can make you an account"
        return render(request, "signup.html", context | {"error": message, "refused": True}, 403)
    if policy == "invite" and not invite:
        message = "sign-up on this site needs an invite link from an admin"
        return render(request, "signup.html", context | {"error": message, "refused": True}, 403)
    if invite:
        try:
            found = administration.check_invite(store_of(request), invite)
        except administration.InviteError as error:
            return render(
                request, "signup.html", context | {"error": str(error), "refused": True}, 400
            )
        context |= {"invite_email": found.email, "email": found.email or ""}
    return render(request, "signup.html", context)


@router.post("/signup")
def signup(
    request: Request,
    email: str = Form(""),
    name: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    invite: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    check_csrf(request, csrf_token)
    store = store_of(request)
    policy = settings_of(request).signup
    context: dict[str, object] = {"next": safe_next(next), "email": email, "name": name}
    context |= {"invite": invite, "invite_email": None, "policy": policy, "refused": False}
    try:
        accounts.check_rate(store, f"signup:client:{client_address(request)}", *SIGN_UP_LIMIT)
        user = administration.sign_up(store, policy, email, password, name, invite or None)
    except accounts.RateLimitedError as error:
        return render(request, "signup.html", context | {"error": str(error)}, status_code=429)
    except (administration.SignUpClosedError, administration.InviteError) as error:
        refused = context | {"error": str(error), "refused": True}
        status = 403 if isinstance(error, administration.SignUpClosedError) else 400
        return render(request, "signup.html", refused, status_code=status)
    except (accounts.AccountError, accounts.DuplicateEmailError) as error:
        return render(request, "signup.html", context | {"error": str(error)}, status_code=400)
    sign_in_session(request, user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/signout")
def signout(request: Request, csrf_token: str = Form("")) -> Response:
    check_csrf(request, csrf_token)
    sign_out_session(request)
    return RedirectResponse("/", status_code=303)


# -- account: API tokens ------------------------------------------------------------------


def _account_context(request: Request, user: accounts.User, **values: object) -> dict[str, object]:
    store = store_of(request)
    context: dict[str, object] = {
        "tokens": list_tokens(store, user.id),
        "new_token": None,
        "profile": profile_of(store, user),
        "password_message": None,
        "password_error": False,
        "digests": _digests(request, user),
    }
    return context | values


def _digests(request: Request, user: accounts.User) -> list[tuple[Subscription, str]]:
    """The account's digest subscriptions, each with the link to change or end it (the
    one its mails carry): listed in the download, they were nowhere on the page."""
    secret = secret_key_of(settings_of(request))
    return [
        (owned, "/subscribe/manage?" + urlencode({"token": make_token(secret, "manage", owned)}))
        for owned in owned_subscriptions(store_of(request), user.id)
    ]


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request) -> HTMLResponse:
    user = page_user(request)
    return render(request, "account.html", _account_context(request, user))


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    current: str = Form(""),
    new: str = Form(""),
    csrf_token: str = Form(""),
) -> HTMLResponse:
    """New password; every session of the account ends, this browser gets a fresh one."""
    check_csrf(request, csrf_token)
    user = page_user(request)
    try:
        changed = accounts.change_password(store_of(request), user, current, new)
    except accounts.AccountError as error:
        context = _account_context(request, user, password_message=str(error), password_error=True)
        return render(request, "account.html", context, status_code=400)
    sign_in_session(request, changed)
    message = "Password changed; your other sessions and your API tokens have ended."
    return render(
        request, "account.html", _account_context(request, changed, password_message=message)
    )


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    label: str = Form(""),
    csrf_token: str = Form(""),
    scope: str = Form("write"),
) -> Response:
    check_csrf(request, csrf_token)
    user = page_user(request)
    store = store_of(request)
    try:
        token = accounts.create_api_token(store, user, label, scope)
    except accounts.AccountError as error:
        raise HTTPException(400, str(error)) from None
    return render(request, "account.html", _account_context(request, user, new_token=token))


@router.post("/account/tokens/delete")
def revoke_token(
    request: Request, token_hash: str = Form(""), csrf_token: str = Form("")
) -> Response:
    check_csrf(request, csrf_token)
    user = page_user(request)
    delete_token(store_of(request), user.id, token_hash)
    return RedirectResponse("/account", status_code=303)


# -- submit ------------------------------------------------------------------------------


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request) -> HTMLResponse:
    page_user(request)
    return render(request, "submit.html", {"error": None, "arxiv_id": ""})


@router.post("/submit")
def submit(request: Request, arxiv_id: str = Form(""), csrf_token: str = Form("")) -> Response:
    check_csrf(request, csrf_token)
    user = page_user(request)
    store = store_of(request)
    try:
        accounts.check_rate(store, f"submit:user:{user.id}", *SUBMIT_LIMIT)
        paper = votes.submit_paper(
            store, user, arxiv_id, settings_of(request).arxiv_api_url or None
        )
    except accounts.RateLimitedError as error:
        context = {"error": str(error), "arxiv_id": arxiv_id}
        return render(request, "submit.html", context, status_code=429)
    except (LookupError, ValueError, IngestError) as error:
        message = error.args[0] if error.args else str(error)
        context = {"error": message, "arxiv_id": arxiv_id}
        return render(request, "submit.html", context, status_code=400)
    return RedirectResponse(f"/papers/{url_id(paper.arxiv_id)}", status_code=303)
