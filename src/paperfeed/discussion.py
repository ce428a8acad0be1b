"""Discussion: comments and one level of replies on papers, by signed-in users.

Comments are plain text. Links are found (``http``/``https`` only) and handed to the
page as separate segments, so the page escapes every character and no comment can
carry markup. Threads are shown newest first, the replies of a thread oldest first
(a conversation reads downwards). A reply to a reply joins the thread of its parent:
there is one level of replies. Deleting blanks the text; a deleted thread that has
replies stays as "[deleted]" so the replies keep their context.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from paperfeed.accounts import check_rate
from paperfeed.ingest import normalize_paper_id
from paperfeed.models import StoredPaper
from paperfeed.store import Store
from paperfeed.store import comments as comment_rows
from paperfeed.store.accounts import User
from paperfeed.store.comments import Comment
from paperfeed.store.moderation import is_hidden
from paperfeed.typed_text import unwritable_character

__all__ = [
    "COMMENT_RATE_LIMIT",
    "Comment",
    "CommentNotFoundError",
    "DiscussionError",
    "MAX_COMMENT_CHARACTERS",
    "NotYourCommentError",
    "PaperWithdrawnError",
    "Thread",
]

MAX_COMMENT_CHARACTERS = 10_000
# comments (threads, replies and edits) per user per window of seconds
COMMENT_RATE_LIMIT = (20, 10 * 60)
# any control character but tab and line feed (carriage returns are normalised away)
_URL = re.compile(r"https?://[^\s<>\"'`\x00-\x1f\x7f]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\""


class DiscussionError(ValueError):
    """Bad comment input; the message names what is wrong."""


class CommentNotFoundError(LookupError):
    """No such comment (or paper), or it was deleted."""


class NotYourCommentError(PermissionError):
    """Someone tried to change another user's comment."""


class PaperWithdrawnError(DiscussionError):
    """The paper was withdrawn from arXiv: its discussion is kept but takes no new comments."""


@dataclass(frozen=True)
class Thread:
    """A comment and its replies (oldest first)."""

    comment: Comment
    replies: tuple[Comment, ...]


def _paper(store: Store, arxiv_id: str, viewer: User | None) -> StoredPaper:
    """The paper with this id, as ``viewer`` may see it: a paper a moderator hid is not
    found but by admins (as its page and API answer)."""
    normalized = normalize_paper_id(arxiv_id)
    if normalized is None:
        raise DiscussionError(
            f"{arxiv_id!r} is not an arXiv id or a DOI (expected e.g. 2401.00165)"
        )
    paper = store.get_paper(normalized)
    if paper is None:
        raise CommentNotFoundError(f"no paper {normalized} in this paperfeed")
    if is_hidden(store, paper.key) and not (viewer is not None and viewer.is_admin):
        raise CommentNotFoundError(f"paper {paper.arxiv_id} was hidden by a moderator")
    return paper


def clean_text(text: object) -> str:
    """The comment text as stored: line breaks normalised, outer blanks trimmed.

    Raises:
        DiscussionError: not text, empty, too long, or holding control characters.
    """
    if not isinstance(text, str):
        raise DiscussionError(f"comment text must be a string (got {type(text).__name__})")
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not cleaned:
        raise DiscussionError("comment text is empty")
    if len(cleaned) > MAX_COMMENT_CHARACTERS:
        raise DiscussionError(
            f"comment is {len(cleaned):,} characters long (at most {MAX_COMMENT_CHARACTERS:,})"
        )
    problem = unwritable_character(cleaned, lines=True)
    if problem:
        raise DiscussionError(f"comment contains {problem}")
    return cleaned


def _check_rate(store: Store, user: User) -> None:
    check_rate(store, f"comment:user:{user.id}", *COMMENT_RATE_LIMIT)


def post_comment(
    store: Store, user: User, arxiv_id: str, text: object, parent_id: int | None = None
) -> Comment:
    """Start a thread on a paper, or reply to one.

    Args:
        store: the store.
        user: the author.
        arxiv_id: the paper.
        text: plain text, at most ``MAX_COMMENT_CHARACTERS``.
        parent_id: the comment replied to; a reply to a reply joins its thread.

    Raises:
        DiscussionError: bad text or parent.
        PaperWithdrawnError: the paper was withdrawn from arXiv.
        CommentNotFoundError: no such paper (or one a moderator hid, for all but admins),
            or no such parent comment on it.
        RateLimitedError: more than ``COMMENT_RATE_LIMIT`` comments in the window.
    """
    paper = _paper(store, arxiv_id, user)
    if paper.withdrawn_on:
        raise PaperWithdrawnError(
            f"paper {paper.arxiv_id} was withdrawn from arXiv (seen {paper.withdrawn_on}); "
            "its discussion is kept but takes no new comments"
        )
    cleaned = clean_text(text)
    thread_id: int | None = None
    if parent_id is not None:
        if isinstance(parent_id, bool) or not isinstance(parent_id, int):
            raise DiscussionError(f"parent must be a comment id (got {parent_id!r})")
        parent = comment_rows.find_comment(store, parent_id)
        if parent is None or parent.paper_key != paper.key:
            raise CommentNotFoundError(f"no comment {parent_id} on paper {paper.arxiv_id}")
        if parent.deleted:
            raise DiscussionError(f"comment {parent_id} was deleted; it takes no replies")
        if parent.removed_by_moderator:
            raise DiscussionError(
                f"comment {parent_id} was removed by a moderator; it takes no replies"
            )
        thread_id = parent.parent_id if parent.parent_id is not None else parent.id
    _check_rate(store, user)
    comment_id = comment_rows.insert_comment(
        store, paper.key, user.id, thread_id, cleaned, time.time()
    )
    return _existing(store, comment_id)


def _existing(store: Store, comment_id: int) -> Comment:
    comment = comment_rows.find_comment(store, comment_id)
    if comment is None or comment.deleted:
        raise CommentNotFoundError(f"no comment {comment_id}")
    if comment.removed_by_moderator:  # its author can no longer edit it back
        raise CommentNotFoundError(f"comment {comment_id} was removed by a moderator")
    return comment


def _own(store: Store, user: User, comment_id: int) -> Comment:
    comment = _existing(store, comment_id)
    if comment.user_id != user.id:
        raise NotYourCommentError(f"comment {comment_id} was written by another user")
    return comment


def edit_comment(store: Store, user: User, comment_id: int, text: object) -> Comment:
    """Replace the text of one's own comment (it is marked edited).

    Raises:
        DiscussionError, CommentNotFoundError, NotYourCommentError, RateLimitedError.
    """
    _own(store, user, comment_id)
    cleaned = clean_text(text)
    _check_rate(store, user)
    comment_rows.update_text(store, comment_id, cleaned, time.time())
    return _existing(store, comment_id)


def delete_comment(store: Store, user: User, comment_id: int) -> Comment:
    """Delete one's own comment; returns it as it was.

    Raises:
        CommentNotFoundError, NotYourCommentError.
    """
    comment = _own(store, user, comment_id)
    comment_rows.mark_deleted(store, comment_id, time.time())
    return comment


def paper_threads(store: Store, paper: StoredPaper) -> list[Thread]:
    """The discussion of a paper: threads newest first, each with its replies oldest first.

    Deleted replies are left out; a deleted thread is kept (blank) only while it has
    replies. A comment removed by a moderator (not deleted by its author) stays in its
    place, shown as "removed by a moderator", so its replies keep their context.
    """
    comments = comment_rows.paper_comments(store, paper.key)
    replies: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.parent_id is not None and not comment.deleted:
            replies.setdefault(comment.parent_id, []).append(comment)
    threads = [
        Thread(comment, tuple(replies.get(comment.id, ())))
        for comment in comments
        if comment.parent_id is None and (not comment.deleted or comment.id in replies)
    ]
    return sorted(threads, key=lambda thread: (thread.comment.created_at, thread.comment.id))[::-1]


def thread_of(
    store: Store, arxiv_id: str, viewer: User | None = None
) -> tuple[StoredPaper, list[Thread]]:
    """The paper with this id and its threads, as ``viewer`` (None: anyone) may see them.

    Raises:
        DiscussionError: not an arXiv id.
        CommentNotFoundError: no such paper, or one a moderator hid (but to admins).
    """
    paper = _paper(store, arxiv_id, viewer)
    return paper, paper_threads(store, paper)


def comment_total(paper: StoredPaper, site_counts: dict[int, int]) -> int:
    """A paper's comments: those its source reported plus those written here."""
    return (paper.num_comments or 0) + site_counts.get(paper.key, 0)


def comment_totals(store: Store, papers: Sequence[StoredPaper]) -> dict[int, int]:
    """``comment_total`` of each paper, by store key."""
    counts = comment_rows.count_comments(store, [paper.key for paper in papers])
    return {paper.key: comment_total(paper, counts) for paper in papers}


def comment_counts(store: Store, paper_keys: Sequence[int]) -> dict[int, int]:
    """Comments written here, per paper, for those of ``paper_keys`` that have some."""
    return comment_rows.count_comments(store, paper_keys)


def user_comments(store: Store, user: User, limit: int = 50) -> list[tuple[Comment, StoredPaper]]:
    """A user's comments, newest first, each with its paper."""
    comments = comment_rows.user_comments(store, user.id, limit)
    papers = store.get_papers([comment.paper_key for comment in comments])
    return [(comment, papers[comment.paper_key]) for comment in comments]


def latest_comments(store: Store, paper: StoredPaper, limit: int = 50) -> list[Comment]:
    """A paper's newest comments (threads and replies), for its feed."""
    return comment_rows.latest_comments(store, paper.key, limit)


def text_segments(text: str) -> list[tuple[str, str | None]]:
    """The text cut into ``(piece, url)`` pairs: ``url`` is set where the piece is a link.

    A link ends before trailing punctuation (``see https://x.org/a.``) and before a
    closing parenthesis it did not open (``(https://x.org/a)``).
    """
    segments: list[tuple[str, str | None]] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group()
        while url and (
            url[-1] in _TRAILING or (url[-1] == ")" and url.count(")") > url.count("("))
        ):
            url = url[:-1]
        if len(url) <= len("https://"):
            continue
        start = match.start()
        if start > position:
            segments.append((text[position:start], None))
        segments.append((url, url))
        position = start + len(url)
    if position < len(text):
        segments.append((text[position:], None))
    return segments
