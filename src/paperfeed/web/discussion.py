"""Discussion on paper pages: the comment API, the comment forms and a paper's comment feed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from paperfeed import discussion, moderation
from paperfeed.accounts import RateLimitedError, User
from paperfeed.calendar_dates import iso_moment
from paperfeed.discussion import (
    CommentNotFoundError,
    DiscussionError,
    NotYourCommentError,
    PaperWithdrawnError,
    Thread,
)
from paperfeed.ingest import normalize_paper_id
from paperfeed.ingest.identifiers import url_id
from paperfeed.store.comments import Comment
from paperfeed.web.feeds import RSS_RESPONSES, FeedEntry, rss_response
from paperfeed.web.pages import paper_page_answer
from paperfeed.web.row_ids import CommentId
from paperfeed.web.security import (
    api_user,
    bearer_user,
    check_csrf,
    domain_http_error,
    session_user,
    settings_of,
    store_of,
)
from paperfeed.web.templating import safe_next, sign_in_location

api_router = APIRouter(prefix="/api", tags=["discussion"])
router = APIRouter(include_in_schema=False)
feed_router = APIRouter(prefix="/rss", tags=["feeds"])


class CommentIn(BaseModel):
    """A new comment: plain text, and the comment it replies to (if any)."""

    text: Any = Field(description="plain text; http(s) links become links when shown")
    parent: int | None = Field(None, description="id of the comment replied to")


class CommentEdit(BaseModel):
    text: Any = Field(description="the new plain text")


def comment_json(comment: Comment, arxiv_id: str) -> dict[str, Any]:
    """One comment as the API shows it."""
    removed = comment.removed_by_moderator
    return {
        "id": comment.id,
        "paper": arxiv_id,
        "parent": comment.parent_id,
        "author": None if comment.deleted or removed else comment.author,
        "text": "" if removed else comment.text,
        "deleted": comment.deleted,
        "removedByModerator": removed,
        "created_at": iso_moment(comment.created_at),
        "edited_at": iso_moment(comment.edited_at),
        "url": f"/papers/{url_id(arxiv_id)}#comment-{comment.id}",
    }


def thread_json(thread: Thread, arxiv_id: str) -> dict[str, Any]:
    return comment_json(thread.comment, arxiv_id) | {
        "replies": [comment_json(reply, arxiv_id) for reply in thread.replies]
    }


_STATUSES = ((NotYourCommentError, 403), (PaperWithdrawnError, 409), (CommentNotFoundError, 404))


def _http_error(error: Exception) -> HTTPException:
    """The HTTP answer to a discussion error."""
    return domain_http_error(error, _STATUSES)


_ERRORS = (DiscussionError, CommentNotFoundError, NotYourCommentError, RateLimitedError)


def _arxiv_id_of(request: Request, comment: Comment) -> str:
    papers = store_of(request).get_papers([comment.paper_key])
    return papers[comment.paper_key].arxiv_id


# -- JSON API ---------------------------------------------------------------------------


@api_router.get("/papers/{id:arxiv}/comments", summary="A paper's discussion, newest first")
def list_comments(request: Request, id: str) -> dict[str, Any]:
    """Threads newest first, each with its ``replies`` oldest first."""
    try:
        viewer = bearer_user(request) or session_user(request)
        paper, threads = discussion.thread_of(store_of(request), id, viewer)
    except _ERRORS as error:
        raise _http_error(error) from None
    total = discussion.comment_totals(store_of(request), [paper])[paper.key]
    return {
        "paper": paper.arxiv_id,
        "numComments": total,
        "threads": [thread_json(thread, paper.arxiv_id) for thread in threads],
    }


@api_router.post(
    "/papers/{id:arxiv}/comments",
    status_code=201,
    summary="Comment on a paper or reply (API token or session + CSRF)",
)
def create_comment(
    request: Request, id: str, body: CommentIn, user: Annotated[User, Depends(api_user)]
) -> dict[str, Any]:
    try:
        comment = discussion.post_comment(store_of(request), user, id, body.text, body.parent)
    except _ERRORS as error:
        raise _http_error(error) from None
    return comment_json(comment, _arxiv_id_of(request, comment))


def _edit(request: Request, comment_id: int, body: CommentEdit, user: User) -> dict[str, Any]:
    try:
        comment = discussion.edit_comment(store_of(request), user, comment_id, body.text)
    except _ERRORS as error:
        raise _http_error(error) from None
    return comment_json(comment, _arxiv_id_of(request, comment))


@api_router.patch("/comments/{comment_id}", summary="Edit one's own comment")
def patch_comment(
    request: Request,
    comment_id: CommentId,
    body: CommentEdit,
    user: Annotated[User, Depends(api_user)],
) -> dict[str, Any]:
    return _edit(request, comment_id, body, user)


@api_router.put("/comments/{comment_id}", summary="Edit one's own comment (same as PATCH)")
def put_comment(
    request: Request,
    comment_id: CommentId,
    body: CommentEdit,
    user: Annotated[User, Depends(api_user)],
) -> dict[str, Any]:
    return _edit(request, comment_id, body, user)


@api_router.delete("/comments/{comment_id}", summary="Delete one's own comment")
def remove_comment(
    request: Request, comment_id: CommentId, user: Annotated[User, Depends(api_user)]
) -> dict[str, Any]:
    try:
        comment = discussion.delete_comment(store_of(request), user, comment_id)
    except _ERRORS as error:
        raise _http_error(error) from None
    return {"id": comment.id, "paper": _arxiv_id_of(request, comment), "deleted": True}


# -- forms on the paper page ----------------------------------------------------------------


def _form_user(request: Request, csrf_token: str, back: str) -> User:
    user = session_user(request)
    if user is None:
        raise HTTPException(303, "sign in first", headers={"Location": sign_in_location(back)})
    check_csrf(request, csrf_token)
    return user


@router.post("/papers/{arxiv_id:path}/comments")
def comment_form(
    request: Request,
    arxiv_id: str,
    text: str = Form(""),
    parent: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    back = f"/papers/{url_id(arxiv_id)}"
    user = _form_user(request, csrf_token, back + "#discussion")
    try:
        parent_id = int(parent) if parent.strip() else None
    except ValueError:
        raise HTTPException(400, f"parent {parent!r} is not a comment id") from None
    try:
        comment = discussion.post_comment(store_of(request), user, arxiv_id, text, parent_id)
    except PaperWithdrawnError as error:  # no form to type in again: the error alone
        raise _http_error(error) from None
    except (DiscussionError, RateLimitedError) as error:
        return _refused_comment(request, arxiv_id, error, text, parent_id)
    except _ERRORS as error:
        raise _http_error(error) from None
    paper_id = _arxiv_id_of(request, comment)
    return RedirectResponse(f"/papers/{url_id(paper_id)}#comment-{comment.id}", status_code=303)


def _refused_comment(
    request: Request, arxiv_id: str, error: Exception, text: str, parent_id: int | None
) -> Response:
    """The paper's page again, the error over the comment (or reply) form and the form
    holding the text as typed: refused for its length, a character, or the rate limit,
    the comment was lost with a bare error page."""
    store = store_of(request)
    normalized = normalize_paper_id(arxiv_id)
    paper = store.get_paper(normalized) if normalized else None
    if paper is None:  # a malformed id: nothing to show the form on
        raise _http_error(error)
    return paper_page_answer(
        request,
        paper,
        moderation.is_hidden(store, paper),
        _http_error(error).status_code,
        comment_error=str(error),
        comment_typed=text,
        comment_parent=parent_id,
    )


@router.post("/comments/{comment_id}/edit")
def edit_form(
    request: Request, comment_id: CommentId, text: str = Form(""), csrf_token: str = Form("")
) -> Response:
    user = _form_user(request, csrf_token, "/account")
    try:
        comment = discussion.edit_comment(store_of(request), user, comment_id, text)
    except _ERRORS as error:
        raise _http_error(error) from None
    paper_id = _arxiv_id_of(request, comment)
    return RedirectResponse(f"/papers/{url_id(paper_id)}#comment-{comment.id}", status_code=303)


@router.post("/comments/{comment_id}/delete")
def delete_form(request: Request, comment_id: CommentId, csrf_token: str = Form("")) -> Response:
    user = _form_user(request, csrf_token, "/account")
    try:
        comment = discussion.delete_comment(store_of(request), user, comment_id)
    except _ERRORS as error:
        raise _http_error(error) from None
    paper_id = _arxiv_id_of(request, comment)
    back = safe_next(request.headers.get("referer", "").partition(request.url.netloc)[2], "")
    return RedirectResponse(back or f"/papers/{url_id(paper_id)}#discussion", status_code=303)


# -- the paper's feed -------------------------------------------------------------------------


@feed_router.get(
    "/papers/{id:path}",  # any paper id: a DOI has slashes and may have odd characters
    response_class=Response,
    responses=RSS_RESPONSES,
    summary="A paper's comments, newest first",
)
def paper_comments_rss(request: Request, id: str) -> Response:
    try:
        paper, _ = discussion.thread_of(store_of(request), id)
    except _ERRORS as error:
        raise _http_error(error) from None
    base = settings_of(request).base_url
    page = f"{base}/papers/{url_id(paper.arxiv_id)}"
    entries = []
    for comment in discussion.latest_comments(store_of(request), paper):
        link = f"{page}#comment-{comment.id}"
        kind = "replied" if comment.parent_id is not None else "commented"
        entries.append(
            FeedEntry(
                title=f"{comment.author} {kind} on “{paper.shown_title}”",
                link=link,
                published=datetime.fromtimestamp(comment.created_at, UTC),
                description=comment.text,
                authors=(comment.author,) if comment.author else (),
            )
        )
    return rss_response(
        request,
        f"Discussion of “{paper.shown_title}”",
        page,
        f"{base}/rss/papers/{url_id(paper.arxiv_id)}",
        f"Comments on {paper.arxiv_id}, newest first",
        entries,
    )
