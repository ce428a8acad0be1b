"""Jinja templates (autoescaped) and the context every page shares."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from paperfeed.discussion import text_segments
from paperfeed.ingest import web_link
from paperfeed.ingest.identifiers import url_id
from paperfeed.models import StoredPaper
from paperfeed.web.charts import bar_chart
from paperfeed.web.page_context import CommentTotals, Dismissals, Saving
from paperfeed.web.paper_cards import PaperCards
from paperfeed.web.presentation import author_line, display_date, why_matched
from paperfeed.web.security import CSRF_FIELD, csrf_token, session_user, settings_of, store_of
from paperfeed.web.url_quoting import path_segment, quick_urlencode

TEMPLATES = Path(__file__).resolve().parent / "templates"


def iso_week(day: str) -> str:
    """``2026-08-21`` as its ISO week, ``2026-W34``."""
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year:04d}-W{week:02d}"


_CODE = re.compile(r"``?([^`]+)``?")


def inline_code(text: str) -> Markup:
    """Escaped text with its `code` (or reST ``code``) spans as ``<code>``."""
    pieces = []
    last = 0
    for match in _CODE.finditer(text):
        pieces.append(escape(text[last : match.start()]))
        pieces.append(Markup("<code>") + escape(match.group(1)) + Markup("</code>"))
        last = match.end()
    pieces.append(escape(text[last:]))
    return Markup("").join(pieces)


def display_timestamp(moment: float) -> str:
    """Epoch seconds as ``Aug 21, 2026 14:05 UTC``."""
    shown = datetime.fromtimestamp(moment, UTC)
    return display_date(shown.date().isoformat()) + shown.strftime(" %H:%M UTC")


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    environment = templates.env
    environment.autoescape = True  # every variable is HTML-escaped unless marked safe
    # The templates ship inside the package and change only with it: without this, every
    # {% import %} and {% from %} of a page (~70 on a search page) stat()ed its file to
    # see whether it had changed since it was compiled.
    environment.auto_reload = False
    environment.filters["author_line"] = author_line
    environment.filters["display_date"] = display_date
    environment.filters["why_matched"] = why_matched
    environment.filters["iso_week"] = iso_week
    environment.filters["inline_code"] = inline_code
    environment.filters["web_link"] = web_link  # http(s) or nothing, for every data href
    environment.filters["text_segments"] = text_segments
    environment.filters["timestamp"] = display_timestamp
    environment.filters["url_id"] = url_id  # paper ids (DOIs too) in URL paths
    environment.filters["urlencode"] = quick_urlencode
    environment.filters["path_segment"] = path_segment
    environment.globals["CSRF_FIELD"] = CSRF_FIELD
    environment.globals["urlencode"] = urlencode
    environment.globals["bar_chart"] = bar_chart
    return templates


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
    *,
    shown: Sequence[StoredPaper] = (),
) -> HTMLResponse:
    """Render a page with the signed-in user, the CSRF token and the cards
    (``paper_cards.PaperCards``) available to it. ``shown`` are the papers whose cards or
    comment totals the page shows: their totals, and for a signed-in reader which are
    saved or marked "not for me", are read together."""
    templates: Jinja2Templates = request.app.state.templates
    user = session_user(request)
    store = store_of(request)
    comment_total = CommentTotals(store, shown)
    saving = Saving(store, user, shown) if user else None
    dismissed = Dismissals(store, user, shown) if user else None
    csrf = csrf_token(request)
    path, query_string = request.url.path, str(request.url.query)
    cards = PaperCards(
        templates.env,
        user=user,
        csrf=csrf,
        path=path,
        query_string=query_string,
        saving=saving,
        dismissed=dismissed,
        comment_total=comment_total,
    )
    shared = {
        "user": user,
        "comment_total": comment_total,
        "saving": saving,
        "dismissed": dismissed,
        "csrf": csrf,
        "settings": settings_of(request),
        "path": path,
        "query_string": query_string,
        "cards": cards,
    }
    return templates.TemplateResponse(request, name, shared | context, status_code=status_code)


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to; anything else (another host, ``//x``) becomes ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def page_posted_from(request: Request, next_field: str) -> str:
    """Where a form goes back to: its ``next`` field, else the page it was posted from
    (the Referer), else the front page; local paths only (``safe_next``)."""
    referer = urlsplit(request.headers.get("referer", ""))
    came_from = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_next(next_field, "") or safe_next(came_from, "/")


def sign_in_location(back: str) -> str:
    """The sign-in page, which returns to ``back`` afterwards."""
    return f"/signin?next={quote(back, safe='/')}"
