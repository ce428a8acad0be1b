""" "Not for me": a user's explicit negatives, by paper id. For you trains on them
(``search.recommending``) and never shows those papers; marks are reversible."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from paperfeed.ingest import normalize_paper_id, quoted
from paperfeed.models import StoredPaper
from paperfeed.store import Store
from paperfeed.store.accounts import User
from paperfeed.store.feedback import (
    mark_not_for_me,
    marked_among,
    not_for_me_marks,
    unmark_not_for_me,
)
from paperfeed.store.moderation import is_hidden


@dataclass(frozen=True)
class MarkResult:
    """A paper's "not for me" state for one user after a change."""

    arxiv_id: str
    not_for_me: bool
    changed: bool


def paper_named(store: Store, arxiv_id: str) -> StoredPaper:
    """The stored paper with this id.

    Raises:
        LookupError: the text is no paper id, or no stored paper has it.
    """
    normalized = normalize_paper_id(arxiv_id)
    if normalized is None:
        raise LookupError(
            f"no paper {quoted(arxiv_id)} in this paperfeed "
            "(expected an arXiv id such as 2401.00165, or a DOI)"
        )
    paper = store.get_paper(normalized)
    if paper is None:
        raise LookupError(f"no paper {normalized} in this paperfeed")
    return paper


def set_not_for_me(store: Store, user: User, arxiv_id: str, marked: bool) -> MarkResult:
    """Mark (``marked``) or unmark a paper as "not for me"; doing it twice changes nothing."""
    paper = paper_named(store, arxiv_id)
    if marked and is_hidden(store, paper.key):  # not found, as its page is; unmarking works
        raise LookupError(f"paper {paper.arxiv_id} was hidden by a moderator")
    if marked:
        changed = mark_not_for_me(store, user.id, paper.key)
    else:
        changed = unmark_not_for_me(store, user.id, paper.key)
    return MarkResult(paper.arxiv_id, marked, changed)


def marked_papers(store: Store, user: User) -> list[tuple[StoredPaper, float]]:
    """The user's "not for me" papers with when they were marked, newest first."""
    marks = not_for_me_marks(store, user.id)
    papers = store.get_papers([mark.paper_key for mark in marks])
    return [(papers[mark.paper_key], mark.created_at) for mark in marks if mark.paper_key in papers]


def marked_keys(store: Store, user: User, paper_keys: Sequence[int] | None = None) -> set[int]:
    """The keys of the user's "not for me" papers (of ``paper_keys`` only, when given)."""
    if paper_keys is not None:
        return marked_among(store, user.id, paper_keys)
    return {mark.paper_key for mark in not_for_me_marks(store, user.id)}
