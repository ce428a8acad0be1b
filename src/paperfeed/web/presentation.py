"""How papers are shown: author lines, dates, links, BibTeX and the JSON shapes of the API."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from paperfeed.calendar_dates import is_calendar_date
from paperfeed.collections.exporting import source_url, to_bibtex
from paperfeed.ingest import web_link
from paperfeed.ingest.identifiers import is_doi, url_id
from paperfeed.models import Hit, StoredPaper
from paperfeed.search.recommending import Recommendation
from paperfeed.votes import VoteResult


def author_line(paper: StoredPaper, shown: int = 3) -> str:
    """ "A, B, C +6" — the first authors and how many more."""
    names = paper.authors[:shown]
    extra = len(paper.authors) - len(names)
    return ", ".join(names) + (f" +{extra}" if extra > 0 else "")


def display_date(value: str | None) -> str:
    """``2026-08-21`` as ``Aug 21, 2026``; other text unchanged."""
    if not value:
        return ""
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return value
    return parsed.strftime("%b %d, %Y").replace(" 0", " ")


def arxiv_links(paper: StoredPaper) -> dict[str, str]:
    """Where the paper lives at its source: arXiv's abstract and PDF, or for a bioRxiv /
    medRxiv paper (a DOI id) its page on that server (the DOI resolves there too)."""
    if is_doi(paper.arxiv_id):
        page = source_url(paper)
        return {
            "abstract": page,
            "pdf": f"{page}.full.pdf",
            "doi": f"https://doi.org/{url_id(paper.arxiv_id)}",
        }
    return {
        "abstract": f"https://arxiv.org/abs/{paper.arxiv_id}",
        "pdf": f"https://arxiv.org/pdf/{paper.arxiv_id}",
    }


def bibtex(paper: StoredPaper) -> str:
    """The paper's BibTeX entry, the same one a collection export gives."""
    return to_bibtex([paper])


def _timestamp(*days: str | None) -> str | None:
    """The first of ``days`` that is a calendar day, as the original's timestamps; a date
    that is none (``2003-02-31``, stored by an older version) is skipped, as clients
    such as huggingface_hub's ``parse_datetime`` fail on it."""
    day = next((day for day in days if day and is_calendar_date(day)), None)
    return f"{day}T00:00:00.000Z" if day else None


@dataclass(frozen=True)
class Accounts:
    """The source's descriptions of the submitters and organisations of some papers
    (``store.source_accounts.users_and_organizations``): users by handle, organisations by
    display name. Empty when none are stored: then only the names papers hold are sent."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)


NO_ACCOUNTS = Accounts()
# The keys of the original's objects: ``submittedBy`` (an entry's), ``submittedOnDailyBy``
# (a paper's) and ``organization``; a key is sent only when the source gave its value.
_SUBMITTED_BY_KEYS = (
    "_id",
    "avatarUrl",
    "fullname",
    "name",
    "type",
    "isPro",
    "isHf",
    "isHfAdmin",
    "isMod",
)
# (the original's paper-level object names the handle "user", and since 2026-03 "name" too)
_SUBMITTED_ON_DAILY_BY_KEYS = ("_id", "avatarUrl", "isPro", "fullname", "user", "type", "name")
_ORGANIZATION_KEYS = ("_id", "name", "fullname", "avatar")


def _submitter(
    paper: StoredPaper, accounts: Accounts, keys: tuple[str, ...]
) -> dict[str, Any] | None:
    if not paper.submitted_by:
        return None
    # what the paper itself says: the handle (also the original's "user" key)
    known: dict[str, Any] = {"name": paper.submitted_by, "user": paper.submitted_by, "type": "user"}
    known |= accounts.users.get(paper.submitted_by, {})
    return {key: known[key] for key in keys if key in known}


def _organization(paper: StoredPaper, accounts: Accounts = NO_ACCOUNTS) -> dict[str, Any] | None:
    if not paper.organization:
        return None
    # without the source's description, the display name only: the handle is not invented
    known: dict[str, Any] = {"fullname": paper.organization}
    known |= accounts.organizations.get(paper.organization, {})
    return {key: known[key] for key in _ORGANIZATION_KEYS if key in known}


def paper_entry(
    paper: StoredPaper, upvotes: int, accounts: Accounts = NO_ACCOUNTS
) -> dict[str, Any]:
    """A paper in the original site's shape: ``GET /api/papers/{id}``, and the ``paper``
    of each ``/api/daily_papers`` and ``/api/papers/search`` entry.

    Fields this paperfeed does not know (authors' ``_id``s, discussion ids, avatars
    the source did not give) are left out rather than invented; timestamps carry the
    date at midnight UTC.
    """
    published = _timestamp(paper.published, paper.first_listed, paper.daily_date)
    inner: dict[str, Any] = {
        "id": paper.arxiv_id,
        "authors": [{"name": name, "hidden": False} for name in paper.authors],
        "publishedAt": published,
        "title": paper.title,
        "summary": paper.abstract,
        "upvotes": upvotes,
    }
    submitted = _timestamp(paper.daily_date)
    if submitted:
        inner["submittedOnDailyAt"] = submitted
    submitter = _submitter(paper, accounts, _SUBMITTED_ON_DAILY_BY_KEYS)
    if submitter:
        inner["submittedOnDailyBy"] = submitter
    github_repo, project_page = web_link(paper.github_repo), web_link(paper.project_page)
    if github_repo:
        inner["githubRepo"] = github_repo
    if paper.github_stars is not None:
        inner["githubStars"] = paper.github_stars
    if project_page:
        inner["projectPage"] = project_page
    organization = _organization(paper, accounts)
    if organization:
        inner["organization"] = organization
    # the source's own AI summary and keywords, passed on unchanged where it gave them
    # (ours, ``tldr``/``keywords``, go under our own names: none is passed off as theirs)
    if paper.ai_summary:
        inner["ai_summary"] = paper.ai_summary
    if paper.ai_keywords:
        inner["ai_keywords"] = list(paper.ai_keywords)
    return inner


def daily_papers_entry(
    paper: StoredPaper,
    upvotes: int,
    num_comments: int | None = None,
    accounts: Accounts = NO_ACCOUNTS,
) -> dict[str, Any]:
    """One element of ``GET /api/daily_papers`` (and ``/api/papers/search``), in the
    original site's shape: ``{paper: {...}, publishedAt, title, summary, numComments}``.

    ``num_comments`` is the source's comments plus this site's (``comment_totals``);
    without it, the source's count alone."""
    inner = paper_entry(paper, upvotes, accounts)
    entry: dict[str, Any] = {
        "paper": inner,
        "publishedAt": inner["publishedAt"],
        "title": paper.title,
        "summary": paper.abstract,
        "numComments": paper.num_comments or 0 if num_comments is None else num_comments,
    }
    submitter = _submitter(paper, accounts, _SUBMITTED_BY_KEYS)
    if submitter:
        entry["submittedBy"] = submitter
    organization = _organization(paper, accounts)
    if organization:
        entry["organization"] = organization
    return entry


def paper_json(
    paper: StoredPaper, upvotes: int, num_comments: int, accounts: Accounts = NO_ACCOUNTS
) -> dict[str, Any]:
    """``GET /api/papers/{id}``: the original site's paper object (what
    ``huggingface_hub``'s ``HfApi.paper_info`` reads) plus everything else stored about
    it under keys of our own that the original does not use. ``num_comments``: those its
    source reported and those written here."""
    return paper_entry(paper, upvotes, accounts) | {
        "numComments": num_comments,
        "abstract": paper.abstract,
        "categories": paper.categories,
        "date": paper.date,
        "published": paper.published,
        "first_listed": paper.first_listed,
        "daily_date": paper.daily_date,
        "doi": paper.doi,
        "journal_ref": paper.journal_ref,
        "comment": paper.comment,
        "links": arxiv_links(paper),
        **triage_fields(paper),
    }


def hit_json(hit: Hit, upvotes: int) -> dict[str, Any]:
    """One search hit in the JSON API: the paper's summary plus why it matched."""
    paper = hit.paper
    return {
        "id": paper.arxiv_id,
        "title": paper.title,
        "authors": paper.authors,
        "organization": paper.organization,
        "date": paper.date,
        "categories": paper.categories,
        "upvotes": upvotes,
        "score": round(hit.score, 6),
        "snippet": hit.snippet,
        "matched_terms": list(hit.matched_terms),
        "found_by": hit.found_by,
        "lexical_rank": hit.lexical_rank,
        "semantic_rank": hit.semantic_rank,
        **triage_fields(paper),
    }


def triage_fields(paper: StoredPaper) -> dict[str, Any]:
    """``keywords`` (list of strings) and ``tldr`` (string, "" when none yet): the
    source's own where it gave them, else those made at index time."""
    return {"keywords": paper.shown_keywords, "tldr": paper.shown_tldr or ""}


def vote_json(result: VoteResult) -> dict[str, Any]:
    """A paper's vote state for one user, as the API and the upvote button answer it."""
    return {"id": result.arxiv_id, "upvoted": result.upvoted, "upvotes": result.upvotes}


def why_matched(hit: Hit) -> str:
    """A sentence saying how the hit was found."""
    terms = ", ".join(hit.matched_terms)
    if hit.found_by == "identifier":
        return (
            "its id is in the query"
            if is_doi(hit.paper.arxiv_id)
            else "its arXiv id is in the query"
        )
    if hit.found_by == "both":
        return f"words ({terms}) and meaning both match" if terms else "words and meaning match"
    if hit.found_by == "lexical":
        return f"contains {terms}" if terms else "its words match"
    return (
        "close in meaning (no query word in the text)"
        if not terms
        else f"close in meaning; contains {terms}"
    )


_REASONS = {"authored": "wrote", "imported": "imported"}


def because_text(item: Recommendation) -> str:
    """ "you upvoted “Title”" — the positive a recommendation is closest to."""
    return f"you {_REASONS.get(item.reason, item.reason)} “{item.because_title}”"


def error_header(detail: str) -> dict[str, str]:
    """``X-Error-Message``: where the original site's clients (``huggingface_hub``'s
    ``hf_raise_for_status``) read a server's message first; one line.

    The message is sent as UTF-8 bytes (Starlette writes a header's characters as
    Latin-1, so the text is handed over as its UTF-8 bytes read as Latin-1): httpx, which
    the client uses, reads a header that is not ASCII as UTF-8, so a message naming
    "注意力" arrives as written, and the same as the body's ``error``, which the client
    shows once. Control characters, which no header may carry, are dropped."""
    line = _HEADER_CONTROLS.sub("", " ".join(detail.split()))
    return {"X-Error-Message": line.encode("utf-8").decode("latin-1")}


_HEADER_CONTROLS = re.compile("[\x00-\x1f\x7f]")


def error_body(detail: str) -> dict[str, str]:
    """A JSON error: FastAPI's ``detail``, and the same message as ``error``, the key the
    original site's clients read from the body."""
    return {"detail": detail, "error": detail}
