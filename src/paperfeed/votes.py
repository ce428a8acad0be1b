"""Upvotes and daily-list submissions: what a signed-in user does to a paper."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from paperfeed.accounts import User
from paperfeed.ingest import IngestError, normalize_paper_id
from paperfeed.ingest.arxiv_api import fetch_arxiv_paper
from paperfeed.models import StoredPaper
from paperfeed.search.feeds import total_upvotes
from paperfeed.store import Store
from paperfeed.store import accounts as account_rows
from paperfeed.store.activity import record_submission
from paperfeed.store.daily import submit_to_daily

_log = logging.getLogger("paperfeed.votes")


@dataclass(frozen=True)
class VoteResult:
    """A paper's state for one user after a vote or a withdrawal."""

    arxiv_id: str
    upvoted: bool
    upvotes: int


def _normalized_id(arxiv_id: str) -> str:
    normalized = normalize_paper_id(arxiv_id)
    if normalized is None:
        raise LookupError(f"{arxiv_id!r} is not an arXiv id or a DOI (expected e.g. 2401.00165)")
    return normalized


def _paper(store: Store, arxiv_id: str) -> StoredPaper:
    normalized = _normalized_id(arxiv_id)
    paper = store.get_paper(normalized)
    if paper is None:
        raise LookupError(f"no paper {normalized!r} in this paperfeed")
    return paper


def _vote_result(store: Store, paper: StoredPaper, upvoted: bool) -> VoteResult:
    return VoteResult(paper.arxiv_id, upvoted, total_upvotes(store, [paper])[paper.key])


def upvote(store: Store, user: User, arxiv_id: str) -> VoteResult:
    """Vote for a paper (a second vote by the same user changes nothing)."""
    paper = _paper(store, arxiv_id)
    account_rows.insert_vote(store, user.id, paper.key)
    return _vote_result(store, paper, True)


def withdraw_vote(store: Store, user: User, arxiv_id: str) -> VoteResult:
    paper = _paper(store, arxiv_id)
    account_rows.delete_vote(store, user.id, paper.key)
    return _vote_result(store, paper, False)


def toggle_vote(store: Store, user: User, arxiv_id: str) -> VoteResult:
    """Vote, or withdraw the vote if the user had voted: what the upvote button does."""
    paper = _paper(store, arxiv_id)
    if account_rows.insert_vote(store, user.id, paper.key):
        return _vote_result(store, paper, True)
    account_rows.delete_vote(store, user.id, paper.key)
    return _vote_result(store, paper, False)


def voted_ids(store: Store, user: User | None, papers: list[StoredPaper]) -> set[str]:
    """The arXiv ids among ``papers`` that ``user`` voted for."""
    if user is None or not papers:
        return set()
    keys = account_rows.voted_keys(store, user.id, [paper.key for paper in papers])
    return {paper.arxiv_id for paper in papers if paper.key in keys}


def submit_paper(
    store: Store,
    user: User,
    arxiv_id: str,
    arxiv_api_url: str | None = None,
    today: date | None = None,
) -> StoredPaper:
    """Put a paper on today's daily list, credited to ``user``.

    A paper not yet in the collection is fetched from the arXiv API at ``arxiv_api_url``
    (when given) and stored first.

    A stored paper goes on today's list whichever list it was on before; one not
    stored needs the arXiv API, and without it (an offline install, or no network) the
    message says so rather than showing the network error.

    Raises:
        LookupError: not an arXiv id, or no such paper (stored or on arXiv), or arXiv
            could not be asked.
        ValueError: the paper is on today's list already.
    """
    normalized = _normalized_id(arxiv_id)
    if store.get_paper(normalized) is None:
        if not arxiv_api_url:
            raise LookupError(
                f"no paper {normalized!r} in this paperfeed, and looking papers up on "
                "arXiv is turned off here (PAPERFEED_ARXIV_API_URL is empty): only stored "
                "papers can be submitted"
            )
        try:
            fetched = fetch_arxiv_paper(normalized, arxiv_api_url)
        except IngestError as error:
            _log.warning("arXiv look-up of %s failed: %s", normalized, error)
            host = urlsplit(arxiv_api_url).hostname or arxiv_api_url
            raise LookupError(
                f"no paper {normalized!r} in this paperfeed, and arXiv ({host}) could not "
                "be reached to look it up; try again later (papers already stored can be "
                "submitted without it)"
            ) from None
        if fetched is None:
            raise LookupError(f"arXiv has no paper {normalized!r}")
        store.upsert_papers([fetched])
    paper = _paper(store, normalized)
    day = (today or datetime.now(UTC).date()).isoformat()
    submitted = submit_to_daily(store, paper.arxiv_id, day, user.name)
    record_submission(store, submitted.key, user.id, time.time())
    return submitted
