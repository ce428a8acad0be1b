"""Moderation: reports of comments, comments removed by a moderator, hidden papers.

A signed-in user reports a comment once, with a reason. An admin hides a comment (its
text is kept and can be restored) or deletes it (the text is blanked for good); either
way the thread shows "removed by a moderator" in its place and the replies stay. Both
close the comment's open reports; an admin may also dismiss them. A hidden paper leaves
every list, feed, RSS feed and search (``store.moderation.not_hidden`` in the list
queries; the search engine joins the hidden keys into its filter mask when it
refreshes) until an admin shows it again. Every action is written to the audit log.
"""

from __future__ import annotations

import time

from paperfeed.administration import Actor, AdminError, record
from paperfeed.ingest import normalize_paper_id
from paperfeed.models import StoredPaper
from paperfeed.store import Store
from paperfeed.store import comments as comment_rows
from paperfeed.store import moderation as moderation_rows
from paperfeed.store.accounts import User
from paperfeed.store.comments import Comment
from paperfeed.store.moderation import DuplicateReportError, HiddenPaper, Report
from paperfeed.typed_text import unwritable_character

__all__ = [
    "DuplicateReportError",
    "HiddenPaper",
    "ModerationError",
    "Report",
    "UnknownTargetError",
]

MAX_REASON_CHARACTERS = 1000
REMOVALS = ("hide", "delete")


class ModerationError(ValueError):
    """Bad moderation input; the message names the value."""


class UnknownTargetError(LookupError):
    """No such comment, report or paper."""


def _reason(reason: object, required: bool) -> str:
    if not isinstance(reason, str):
        raise ModerationError(f"reason must be text (got {type(reason).__name__})")
    cleaned = reason.replace("\r\n", "\n").strip()
    if required and not cleaned:
        raise ModerationError("say why you report this comment (the reason is empty)")
    if len(cleaned) > MAX_REASON_CHARACTERS:
        raise ModerationError(
            f"reason is {len(cleaned):,} characters long (at most {MAX_REASON_CHARACTERS:,})"
        )
    problem = unwritable_character(cleaned, lines=True)
    if problem:
        raise ModerationError(f"reason contains {problem}")
    return cleaned


def _comment(store: Store, comment_id: int) -> Comment:
    comment = comment_rows.find_comment(store, comment_id)
    if comment is None or comment.deleted:
        raise UnknownTargetError(f"no comment {comment_id}")
    return comment


def _described(store: Store, comment: Comment) -> str:
    papers = store.get_papers([comment.paper_key])
    paper = papers.get(comment.paper_key)
    where = f" on {paper.arxiv_id}" if paper else ""
    return f"comment {comment.id}{where}"


# -- reports ------------------------------------------------------------------------------


def report_comment(store: Store, user: User, comment_id: int, reason: object) -> int:
    """Report a comment to the admins. Returns the report's id.

    Raises:
        ModerationError: an empty or too long reason, or a comment already removed.
        UnknownTargetError: no such comment.
        DuplicateReportError: this user reported it already.
    """
    cleaned = _reason(reason, required=True)
    comment = _comment(store, comment_id)
    if comment.removed_by_moderator:
        raise ModerationError(f"comment {comment_id} was removed by a moderator already")
    return moderation_rows.insert_report(store, comment.id, user.id, cleaned, time.time())


def open_reports(store: Store) -> list[Report]:
    """Reports not yet resolved, oldest first."""
    return moderation_rows.list_reports(store, open_only=True)


def count_open_reports(store: Store) -> int:
    return moderation_rows.count_open_reports(store)


def dismiss_report(store: Store, actor: Actor, report_id: int) -> int:
    """Close the open reports of a report's comment, leaving the comment as it is.

    Returns:
        How many reports were closed.
    """
    found = moderation_rows.find_report_comment(store, report_id)
    if found is None:
        raise UnknownTargetError(f"no report {report_id}")
    comment_id, resolved_at = found
    if resolved_at is not None:
        raise AdminError(f"report {report_id} was resolved already")
    closed = moderation_rows.resolve_reports(
        store, comment_id, "dismissed", actor.user_id, time.time()
    )
    record(store, actor, "report.dismiss", f"comment {comment_id}", f"{closed} reports closed")
    return closed


# -- comments -----------------------------------------------------------------------------


def remove_comment(store: Store, actor: Actor, comment_id: int, how: str = "hide") -> Comment:
    """Remove any comment as a moderator: ``hide`` keeps its text (restorable), ``delete``
    blanks it. Its open reports are closed.

    Raises:
        ModerationError: ``how`` is neither; UnknownTargetError: no such comment.
    """
    if how not in REMOVALS:
        raise ModerationError(f"unknown removal {how!r} (expected one of {', '.join(REMOVALS)})")
    comment = _comment(store, comment_id)
    moderation = "hidden" if how == "hide" else "deleted"
    if comment.moderation == "deleted" and moderation == "hidden":
        raise ModerationError(f"comment {comment_id} was deleted by a moderator already")
    now = time.time()
    moderation_rows.set_comment_moderation(store, comment.id, moderation, now)
    closed = moderation_rows.resolve_reports(store, comment.id, moderation, actor.user_id, now)
    detail = f"by {comment.author}" + (f"; {closed} reports closed" if closed else "")
    record(store, actor, f"comment.{how}", _described(store, comment), detail)
    return _comment(store, comment.id)


def restore_comment(store: Store, actor: Actor, comment_id: int) -> Comment:
    """Show a comment a moderator hid (a deleted one's text is gone for good).

    Raises:
        ModerationError: it was not hidden; UnknownTargetError: no such comment.
    """
    comment = _comment(store, comment_id)
    if comment.moderation != "hidden":
        state = "deleted by a moderator" if comment.moderation else "not hidden"
        raise ModerationError(f"comment {comment_id} is {state}; only a hidden one is restored")
    moderation_rows.set_comment_moderation(store, comment.id, None, None)
    record(store, actor, "comment.restore", _described(store, comment))
    return _comment(store, comment.id)


# -- papers -------------------------------------------------------------------------------


def _paper(store: Store, arxiv_id: str) -> StoredPaper:
    normalized = normalize_paper_id(arxiv_id)  # a bioRxiv/medRxiv preprint is named by DOI
    if normalized is None:
        raise ModerationError(
            f"{arxiv_id!r} is not an arXiv id or a DOI (expected e.g. 2401.00165 or "
            "10.1101/2024.01.02.123456)"
        )
    paper = store.get_paper(normalized)
    if paper is None:
        raise UnknownTargetError(f"no paper {normalized} in this paperfeed")
    return paper


def hide_paper(store: Store, actor: Actor, arxiv_id: str, reason: object = "") -> StoredPaper:
    """Hide a paper from lists, feeds and search (reversible with ``unhide_paper``).

    Raises:
        ModerationError: not an arXiv id, a bad reason, or hidden already.
        UnknownTargetError: no such paper.
    """
    cleaned = _reason(reason, required=False)
    paper = _paper(store, arxiv_id)
    if not moderation_rows.hide_paper(store, paper.key, actor.user_id, cleaned, time.time()):
        raise ModerationError(f"paper {paper.arxiv_id} is hidden already")
    record(store, actor, "paper.hide", f"paper {paper.arxiv_id}", cleaned)
    return paper


def unhide_paper(store: Store, actor: Actor, arxiv_id: str) -> StoredPaper:
    """Show a hidden paper again.

    Raises:
        ModerationError: it was not hidden; UnknownTargetError: no such paper.
    """
    paper = _paper(store, arxiv_id)
    if not moderation_rows.unhide_paper(store, paper.key):
        raise ModerationError(f"paper {paper.arxiv_id} is not hidden")
    record(store, actor, "paper.unhide", f"paper {paper.arxiv_id}")
    return paper


def hidden_papers(store: Store) -> list[HiddenPaper]:
    return moderation_rows.list_hidden_papers(store)


def is_hidden(store: Store, paper: StoredPaper) -> bool:
    return moderation_rows.is_hidden(store, paper.key)
