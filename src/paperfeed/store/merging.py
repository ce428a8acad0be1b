"""How records of one paper from several sources become one stored row."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from paperfeed.ingest import clean_text, web_link
from paperfeed.models import Paper

# Scalar fields where the latest source that says something wins.
_LATEST_WINS = (
    "comment",
    "published",
    "upvotes",
    "num_comments",
    "organization",
    "submitted_by",
    "github_repo",
    "github_stars",
    "project_page",
    "doi",
    "journal_ref",
    "license",
    "updated",
    "ai_summary",
)
# Links shown as clickable hrefs: http(s) only (see ``paperfeed.ingest.links``).
_LINKS = ("github_repo", "project_page")


# Which source's text wins when several describe a paper: arXiv's own records first. A
# fixed order (not "latest wins") makes the merged paper the same whatever order the
# sources are ingested in, so re-ingesting any of them changes nothing.
SOURCE_PRIORITY = {
    "arxiv-snapshot": 3,
    "arxiv-listing": 3,
    "arxiv-oai": 3,
    "daily-papers": 2,
    "arxiv-rss": 2,  # a listed paper before OAI-PMH has it: OAI-PMH's text then wins
    "biorxiv": 2,  # a preprint arXiv also has: arXiv's text wins
    "medrxiv": 2,
    "abstract-dataset": 1,
}


def _priority(sources: list[str]) -> int:
    return max((SOURCE_PRIORITY.get(source, 0) for source in sources), default=0)


def content_hash(title: str, abstract: str) -> str:
    """SHA-256 of the cleaned text a paper is indexed and embedded by."""
    return hashlib.sha256(f"{title}\n{abstract}".encode()).hexdigest()


def row_from_paper(paper: Paper) -> dict[str, Any]:
    """A fresh stored row (without key or bookkeeping) for a paper seen the first time."""
    return merge_into_row(_empty_row(paper.arxiv_id), paper)


def _empty_row(arxiv_id: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "arxiv_id": arxiv_id,
        "title": "",
        "abstract": "",
        "title_raw": "",
        "abstract_raw": "",
        "authors": "[]",
        "categories": "[]",
        "first_listed": None,
        "daily_date": None,
        "sources": "[]",
    }
    for name in _LATEST_WINS:
        row[name] = None
    row["ai_keywords"] = None
    return row


def merge_into_row(row: dict[str, Any], paper: Paper) -> dict[str, Any]:
    """Merge what ``paper`` says into a stored ``row``; returns a new row.

    Title, abstract and authors come from the highest-priority source that has them
    (``SOURCE_PRIORITY``); other non-empty values from the newer record replace older
    ones, except that ``first_listed`` keeps the earliest date, ``daily_date`` the latest,
    and ``sources`` accumulates.
    """
    merged = dict(row)
    outranks = _priority(paper.sources) >= _priority(json.loads(row["sources"]))
    if paper.title and paper.title.strip() and (outranks or not row["title"]):
        merged["title_raw"] = paper.title
        merged["title"] = clean_text(paper.title)
    if paper.abstract and paper.abstract.strip() and (outranks or not row["abstract"]):
        merged["abstract_raw"] = paper.abstract
        merged["abstract"] = clean_text(paper.abstract)
    if paper.authors and (outranks or row["authors"] == "[]"):
        merged["authors"] = json.dumps([clean_text(name) for name in paper.authors])
    if paper.categories:
        merged["categories"] = json.dumps(paper.categories)
    if paper.first_listed:
        earlier = merged.get("first_listed")
        merged["first_listed"] = min(earlier, paper.first_listed) if earlier else paper.first_listed
    if paper.daily_date:
        # the latest list a paper was on (the feed lists a paper again on a later day): the
        # day files and the flattened file (which keeps the first day) of the same papers
        # then agree whatever order they come in, and ingesting them again changes nothing
        shown = merged.get("daily_date")
        merged["daily_date"] = max(shown, paper.daily_date) if shown else paper.daily_date
    for name in _LATEST_WINS:
        value = getattr(paper, name)
        if name in _LINKS:
            value = web_link(value)
        if value is not None and value != "":
            merged[name] = value
    if paper.published_estimate and not merged.get("published"):
        merged["published"] = paper.published_estimate
    if paper.ai_keywords:
        merged["ai_keywords"] = json.dumps(paper.ai_keywords)
    sources = json.loads(merged["sources"])
    for source in paper.sources:
        if source not in sources:
            sources.append(source)
    merged["sources"] = json.dumps(sources)
    # a NUL is no text: PostgreSQL refuses it in a text column (SQLite keeps it), so a
    # record holding one would store on one database and fail its whole batch on the other
    for name, value in merged.items():
        if isinstance(value, str) and "\x00" in value:
            merged[name] = value.replace("\x00", "")
    merged["content_hash"] = content_hash(merged["title"], merged["abstract"])
    return merged
