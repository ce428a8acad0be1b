"""Papers as markdown for agents and ``hf papers read`` (``GET /papers/{id}.md``, or
``Accept: text/markdown`` on the paper page), and ``/llms.txt``, the site described
for agents (the llms.txt convention: an H1, a blockquote summary, sections of links)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from paperfeed import moderation
from paperfeed.discussion import comment_totals, paper_threads
from paperfeed.ingest import normalize_paper_id, quoted, web_link
from paperfeed.ingest.identifiers import is_doi, url_id
from paperfeed.models import StoredPaper
from paperfeed.search import SearchEngine, SearchError
from paperfeed.search.feeds import total_upvotes
from paperfeed.store import Store
from paperfeed.store.comments import Comment
from paperfeed.store.paper_pages import papers_before_key
from paperfeed.web.presentation import arxiv_links, display_date, error_header
from paperfeed.web.security import engine_of, settings_of, store_of

router = APIRouter(include_in_schema=False)
_LLMS_TEMPLATE = Path(__file__).resolve().parent / "templates" / "llms.txt"
MARKDOWN = "text/markdown; charset=utf-8"
_MARKDOWN_TYPES = ("text/markdown", "text/x-markdown")
SIMILAR_SHOWN = 8
THREADS_SHOWN = 5
_EXCERPT = 280
# characters that would start markup inside a link text or a list item
_MARKUP = re.compile(r"([\\`*_\[\]<>#|])")


def _escaped(text: str) -> str:
    return _MARKUP.sub(r"\\\1", " ".join(text.split()))


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT else flat[: _EXCERPT - 1].rstrip() + "…"


def site_base(request: Request) -> str:
    """The site's public address: ``PAPERFEED_BASE_URL``, else the one asked for."""
    settings = settings_of(request)
    return (settings.base_url if settings.base_url_configured else str(request.base_url)).rstrip(
        "/"
    )


def paper_markdown(store: Store, engine: SearchEngine, paper: StoredPaper, base: str) -> str:
    """The paper as markdown: title, authors, dates, links, abstract, upvotes, the
    discussion in short and similar papers (each linked to its own markdown page)."""
    try:
        similar = engine.similar(paper.arxiv_id, limit=SIMILAR_SHOWN)
    except SearchError:  # no index yet: the page is still worth having without them
        similar = []
    upvotes = total_upvotes(store, [paper] + [hit.paper for hit in similar])
    comments = comment_totals(store, [paper])[paper.key]
    threads = paper_threads(store, paper)
    links = arxiv_links(paper)
    lines = [f"# {_escaped(paper.shown_title)}", ""]
    facts = [
        ("Authors", ", ".join(paper.authors) if paper.authors else None),
        ("Organization", paper.organization),
        ("DOI" if is_doi(paper.arxiv_id) else "arXiv id", paper.arxiv_id),
        ("Published", display_date(paper.published or paper.first_listed)),
        ("On the daily list", display_date(paper.daily_date)),
        ("Submitted by", paper.submitted_by),
        ("Categories", ", ".join(paper.categories) if paper.categories else None),
        ("Upvotes", str(upvotes[paper.key])),
        ("Comments", str(comments)),
        ("DOI", paper.doi if paper.doi != paper.arxiv_id else None),
        ("Journal reference", paper.journal_ref),
        ("arXiv comment", paper.comment),
    ]
    lines += [f"- **{name}:** {_escaped(value)}" for name, value in facts if value]
    lines += ["", "## Links", ""]
    lines += [
        f"- {'Preprint server' if is_doi(paper.arxiv_id) else 'arXiv'}: {links['abstract']}",
        f"- PDF: {links['pdf']}",
        f"- This page: {base}/papers/{url_id(paper.arxiv_id)}",
    ]
    code, project = web_link(paper.github_repo), web_link(paper.project_page)
    if code:
        stars = f" ({paper.github_stars} stars)" if paper.github_stars is not None else ""
        lines.append(f"- Code: {code}{stars}")
    if project:
        lines.append(f"- Project page: {project}")
    lines += ["", "## Abstract", "", " ".join(paper.abstract.split()), ""]
    lines += ["## Discussion", ""]
    if threads:
        written_here = sum(
            _shown(thread.comment) + sum(_shown(reply) for reply in thread.replies)
            for thread in threads
        )
        lines.append(
            f"{comments} comments ({written_here} on this site, in {len(threads)} threads); "
            "the latest threads:"
        )
        lines.append("")
        for thread in threads[:THREADS_SHOWN]:
            first = thread.comment
            when = datetime.fromtimestamp(first.created_at, UTC).date().isoformat()
            replies = f" — {len(thread.replies)} replies" if thread.replies else ""
            if first.removed_by_moderator:  # as the page shows it: no author, no text
                lines.append(f"- ({when}) removed by a moderator{replies}")
            elif first.deleted:
                lines.append(f"- ({when}) deleted by its author{replies}")
            else:
                said = _escaped(_excerpt(first.text))
                lines.append(f"- {_escaped(first.author)} ({when}): {said}{replies}")
    else:
        lines.append(f"{comments} comments; none written on this site yet.")
    lines += ["", "## Similar papers", ""]
    if similar:
        lines += [
            f"- [{_escaped(hit.paper.shown_title)}]"
            f"({base}/papers/{url_id(hit.paper.arxiv_id)}.md) — "
            f"{hit.paper.arxiv_id}, {upvotes[hit.paper.key]} upvotes"
            for hit in similar
        ]
    else:
        lines.append("None found (the search index may not be built yet).")
    return "\n".join(lines) + "\n"


def _shown(comment: Comment) -> int:
    """1 for a comment whose text readers see (neither deleted nor removed), else 0."""
    return int(not comment.deleted and not comment.removed_by_moderator)


def _accepted(header: str) -> dict[str, tuple[float, int]]:
    """The media types of an ``Accept`` header: each one's ``q`` (1 when not given, 0
    when unreadable) and where it first appears."""
    found: dict[str, tuple[float, int]] = {}
    for position, part in enumerate(header.lower().split(",")):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    weight = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    weight = 0.0
        if media and weight > found.get(media, (-1.0, 0))[0]:
            found[media] = (weight, found.get(media, (0.0, position))[1])
    return found


def wants_markdown(request: Request) -> bool:
    """Whether the ``Accept`` header prefers markdown (``text/markdown`` or
    ``text/x-markdown``) to HTML: a higher ``q``, or the same one named first; ``q=0``
    refuses it."""
    accepted = _accepted(request.headers.get("accept", ""))
    markdown = max(
        (accepted[media] for media in _MARKDOWN_TYPES if media in accepted),
        key=lambda weighed: (weighed[0], -weighed[1]),
        default=(0.0, 0),
    )
    if markdown[0] <= 0:
        return False
    html = accepted.get("text/html", (0.0, 0))
    return markdown[0] > html[0] or (markdown[0] == html[0] and markdown[1] < html[1])


def markdown_answer(request: Request, engine: SearchEngine, paper_id: str) -> Response:
    """The paper's markdown page; 404 (plain text, as ``HfApi.read_paper`` expects an
    error status) for an id that names no stored paper."""
    store = store_of(request)
    normalized = normalize_paper_id(paper_id)
    paper = store.get_paper(normalized) if normalized is not None else None
    if paper is None or moderation.is_hidden(store, paper):
        shown = normalized or quoted(paper_id)
        message = f"no paper {shown} in this paperfeed"
        # plain text with the message where the original's clients read it, not the HTML
        # error page: the caller asked for markdown
        return PlainTextResponse(
            message + "\n", status_code=404, headers=error_header(message) | {"Vary": "Accept"}
        )
    text = paper_markdown(store, engine, paper, site_base(request))
    return PlainTextResponse(text, media_type=MARKDOWN, headers={"Vary": "Accept"})


@router.get("/papers/{paper_id:path}.md")
def paper_markdown_page(request: Request, paper_id: str) -> Response:
    return markdown_answer(request, engine_of(request), paper_id)


def llms_txt(base: str, example_id: str = "2401.00165") -> str:
    """The site for agents, in the llms.txt convention (https://llmstxt.org): the text of
    ``templates/llms.txt`` with the site's address for ``{base}`` and a stored paper's id
    for ``{example}`` (so every link answers)."""
    text = _LLMS_TEMPLATE.read_text(encoding="utf-8")
    return text.replace("{base}", base).replace("{example}", example_id)


@router.get("/llms.txt")
def llms_txt_page(request: Request) -> Response:
    newest = papers_before_key(store_of(request), None, 1)
    example = newest[0].arxiv_id if newest else "2401.00165"
    return PlainTextResponse(llms_txt(site_base(request), example), media_type=MARKDOWN)
