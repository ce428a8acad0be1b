"""Comment reports, comments removed by a moderator and hidden papers: reads and writes.

Policy (who may report, what a removal does) lives in ``paperfeed.moderation``; this
module only stores and reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from paperfeed.store import schema
from paperfeed.store.database import Store, value_batches

_REPORTS = schema.comment_reports
_HIDDEN = schema.hidden_papers
_COMMENTS = schema.comments


@dataclass(frozen=True)
class Report:
    """A report of a comment, with what the admin page shows beside it."""

    id: int
    comment_id: int
    reporter_id: int
    reporter: str
    reason: str
    created_at: float
    resolved_at: float | None
    resolution: str | None
    comment_text: str
    comment_author_id: int
    comment_author: str
    comment_moderation: str | None
    paper_key: int


@dataclass(frozen=True)
class HiddenPaper:
    paper_key: int
    arxiv_id: str
    title: str
    hidden_at: float
    hidden_by: int | None
    reason: str


class DuplicateReportError(ValueError):
    """This user has reported this comment already."""


# -- reports ---------------------------------------------------------------------------


def insert_report(store: Store, comment_id: int, user_id: int, reason: str, at: float) -> int:
    """Add a report; the unique (comment, user) pair makes a second one fail."""
    try:
        with store.engine.begin() as connection:
            result = connection.execute(
                _REPORTS.insert().values(
                    comment_id=comment_id, user_id=user_id, reason=reason, created_at=at
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]
    except IntegrityError:
        raise DuplicateReportError(f"you have reported comment {comment_id} already") from None


def list_reports(store: Store, open_only: bool = True, limit: int = 200) -> list[Report]:
    """Reports, oldest open one first (or newest first with ``open_only`` false)."""
    reporters = schema.users.alias("reporters")
    authors = schema.users.alias("authors")
    statement = (
        select(
            _REPORTS,
            reporters.c.email.label("reporter"),
            _COMMENTS.c.text.label("comment_text"),
            _COMMENTS.c.user_id.label("comment_author_id"),
            _COMMENTS.c.moderation.label("comment_moderation"),
            _COMMENTS.c.paper_key,
            authors.c.email.label("comment_author"),
        )
        .join(reporters, reporters.c.id == _REPORTS.c.user_id)
        .join(_COMMENTS, _COMMENTS.c.id == _REPORTS.c.comment_id)
        .join(authors, authors.c.id == _COMMENTS.c.user_id)
    )
    if open_only:
        statement = statement.where(_REPORTS.c.resolved_at.is_(None)).order_by(
            _REPORTS.c.created_at, _REPORTS.c.id
        )
    else:
        statement = statement.order_by(_REPORTS.c.created_at.desc(), _REPORTS.c.id.desc())
    with store.engine.connect() as connection:
        rows = connection.execute(statement.limit(limit)).all()
    return [
        Report(
            id=int(row.id),
            comment_id=int(row.comment_id),
            reporter_id=int(row.user_id),
            reporter=row.reporter,
            reason=row.reason,
            created_at=float(row.created_at),
            resolved_at=None if row.resolved_at is None else float(row.resolved_at),
            resolution=row.resolution,
            comment_text=row.comment_text,
            comment_author_id=int(row.comment_author_id),
            comment_author=row.comment_author,
            comment_moderation=row.comment_moderation,
            paper_key=int(row.paper_key),
        )
        for row in rows
    ]


def find_report_comment(store: Store, report_id: int) -> tuple[int, float | None] | None:
    """``(comment id, resolved_at)`` of a report, or None."""
    with store.engine.connect() as connection:
        row = connection.execute(
            select(_REPORTS.c.comment_id, _REPORTS.c.resolved_at).where(_REPORTS.c.id == report_id)
        ).first()
    if row is None:
        return None
    return int(row.comment_id), None if row.resolved_at is None else float(row.resolved_at)


def resolve_reports(
    store: Store, comment_id: int, resolution: str, by: int | None, at: float
) -> int:
    """Close every open report of a comment. Returns how many were open."""
    with store.engine.begin() as connection:
        result = connection.execute(
            update(_REPORTS)
            .where(_REPORTS.c.comment_id == comment_id, _REPORTS.c.resolved_at.is_(None))
            .values(resolved_at=at, resolved_by=by, resolution=resolution)
        )
    return int(result.rowcount or 0)


def count_open_reports(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count()).select_from(_REPORTS).where(_REPORTS.c.resolved_at.is_(None))
            )
            or 0
        )


# -- comments removed by a moderator -----------------------------------------------------


def set_comment_moderation(
    store: Store, comment_id: int, moderation: str | None, at: float | None
) -> None:
    """Hide (text kept), delete (text blanked for good) or restore (``moderation`` None) a
    comment."""
    values: dict[str, object] = {"moderation": moderation, "moderated_at": at}
    if moderation == "deleted":
        values["text"] = ""
    with store.engine.begin() as connection:
        connection.execute(update(_COMMENTS).where(_COMMENTS.c.id == comment_id).values(**values))


def comment_moderation(store: Store, comment_ids: list[int]) -> dict[int, str]:
    """The moderation state of those comments that have one."""
    found: dict[int, str] = {}
    with store.engine.connect() as connection:
        for batch in value_batches(comment_ids):
            rows = connection.execute(
                select(_COMMENTS.c.id, _COMMENTS.c.moderation).where(
                    _COMMENTS.c.id.in_(batch),
                    _COMMENTS.c.moderation.is_not(None),
                )
            )
            found.update({int(row.id): row.moderation for row in rows})
    return found


def hide_comments_of(store: Store, user_id: int, at: float) -> int:
    """Hide every comment of a user not yet removed. Returns how many."""
    with store.engine.begin() as connection:
        result = connection.execute(
            update(_COMMENTS)
            .where(
                _COMMENTS.c.user_id == user_id,
                _COMMENTS.c.moderation.is_(None),
                _COMMENTS.c.deleted_at.is_(None),
            )
            .values(moderation="hidden", moderated_at=at)
        )
    return int(result.rowcount or 0)


# -- hidden papers -------------------------------------------------------------------------


def hide_paper(store: Store, paper_key: int, by: int | None, reason: str, at: float) -> bool:
    """Hide a paper. Returns False when it was hidden already."""
    try:
        with store.engine.begin() as connection:
            connection.execute(
                _HIDDEN.insert().values(
                    paper_key=paper_key, hidden_by=by, hidden_at=at, reason=reason
                )
            )
    except IntegrityError:
        return False
    return True


def unhide_paper(store: Store, paper_key: int) -> bool:
    """Show a hidden paper again. Returns False when it was not hidden."""
    with store.engine.begin() as connection:
        result = connection.execute(delete(_HIDDEN).where(_HIDDEN.c.paper_key == paper_key))
    return bool(result.rowcount)


def hidden_paper_keys(store: Store) -> list[int]:
    """Keys of every hidden paper, ascending (a small table: read on each refresh)."""
    with store.engine.connect() as connection:
        return [
            int(key)
            for key in connection.scalars(select(_HIDDEN.c.paper_key).order_by(_HIDDEN.c.paper_key))
        ]


def is_hidden(store: Store, paper_key: int) -> bool:
    with store.engine.connect() as connection:
        return (
            connection.scalar(select(_HIDDEN.c.paper_key).where(_HIDDEN.c.paper_key == paper_key))
            is not None
        )


def list_hidden_papers(store: Store) -> list[HiddenPaper]:
    """Hidden papers, most recently hidden first."""
    papers = schema.papers
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(_HIDDEN, papers.c.arxiv_id, papers.c.title)
            .join(papers, papers.c.key == _HIDDEN.c.paper_key)
            # ties (migration 17 hid its papers at one time) by id, on every database
            .order_by(_HIDDEN.c.hidden_at.desc(), papers.c.arxiv_id)
        ).all()
    return [
        HiddenPaper(
            paper_key=int(row.paper_key),
            arxiv_id=row.arxiv_id,
            title=row.title,
            hidden_at=float(row.hidden_at),
            hidden_by=None if row.hidden_by is None else int(row.hidden_by),
            reason=row.reason,
        )
        for row in rows
    ]


def not_hidden() -> ColumnElement[bool]:
    """A WHERE clause keeping papers that are not hidden (for list queries)."""
    return schema.papers.c.key.not_in(select(_HIDDEN.c.paper_key))
