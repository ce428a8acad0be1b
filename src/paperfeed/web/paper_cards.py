"""A paper's card, the HTML every list of papers shows it with, written in Python.

A results page shows 20 cards. As a Jinja macro a card took ~120 µs of CPU (2.4 of a
search page's ~11 ms, bench/request_stages.py): a dozen macro calls, ~65 autoescapes and
the context lookups of each. Here each field is escaped once (``html.escape``, C string
replaces: half the time of markupsafe's ``escape``, which makes a ``Markup`` each call,
and it writes quotes as ``&quot;`` and ``&#x27;``, the same characters) and the card is
one f-string; what is the same for every card of a page (the CSRF input, the page to come
back to, the sign-in link) is made once a page.

``PaperCards`` is in every page's template context as ``cards`` (``templating.render``):
``{{ cards.card(paper, upvotes, voted) }}`` in lists, and the upvote, save and "not for
me" controls and the TL;DR on the paper page. Its output is ``Markup``: already safe.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from html import escape

from jinja2 import Environment
from jinja2.filters import do_truncate
from markupsafe import Markup

from paperfeed.ingest import web_link
from paperfeed.ingest.identifiers import url_id
from paperfeed.models import StoredPaper
from paperfeed.web.page_context import Dismissals, Saving
from paperfeed.web.presentation import display_date
from paperfeed.web.security import CSRF_FIELD
from paperfeed.web.url_quoting import path_segment, query_value

ABSTRACT_CHARACTERS = 320  # a card without a snippet shows the abstract's start
AUTHORS_SHOWN = 2  # of more than 3 authors, the first 2 and how many more
CATEGORIES_SHOWN = 6


def authors_and_date(paper: StoredPaper) -> str:
    """The author links (all names in the title) and the paper's date."""
    authors = paper.authors
    shown = authors[:AUTHORS_SHOWN] if len(authors) > AUTHORS_SHOWN + 1 else authors
    links = ", ".join(
        f'<a href="/authors/{path_segment(name)}">{escape(name)}</a>' for name in shown
    )
    more = (
        f" and {len(authors) - AUTHORS_SHOWN} more ({len(authors)} authors)"
        if len(authors) > AUTHORS_SHOWN + 1
        else ""
    )
    title = escape(", ".join(authors))  # ", " needs no escaping: one call for all
    html = f'<span class="authors" title="{title}">{links}{more}</span>'
    if paper.date:
        html += (
            f' · <time datetime="{escape(paper.date)}">{escape(display_date(paper.date))}</time>'
        )
    return html


def links(paper: StoredPaper) -> str:
    """The code and project links (http and https only) and the withdrawn mark."""
    pieces = []
    code = web_link(paper.github_repo)
    if code:
        stars = f" ★{escape(str(paper.github_stars))}" if paper.github_stars else ""
        pieces.append(
            f' · <a class="code" href="{escape(code)}" rel="noopener nofollow">code{stars}</a>'
        )
    project = web_link(paper.project_page)
    if project:
        pieces.append(f' · <a href="{escape(project)}" rel="noopener nofollow">project page</a>')
    if paper.withdrawn_on:
        pieces.append(' · <span class="withdrawn">withdrawn</span>')
    return "\n".join(pieces)


def tags(paper: StoredPaper) -> str:
    """The first categories, each a link to the newest papers in it."""
    if not paper.categories:
        return ""
    links = "".join(
        f'<a class="tag{" primary" if index == 0 else ""}" '
        f'href="/search?q={query_value("cat:" + category)}&amp;sort=date">{escape(category)}</a> '
        for index, category in enumerate(paper.categories[:CATEGORIES_SHOWN])
    )
    return f'<p class="card-tags">{links}</p>'


def triage(paper: StoredPaper) -> str:
    """The TL;DR and the keywords, each keyword a link to a phrase search."""
    pieces = []
    if paper.shown_tldr:
        pieces.append(
            f'<p class="tldr"><span class="tldr-label">TL;DR</span> {escape(paper.shown_tldr)}</p>'
        )
    keywords = []
    for keyword in paper.shown_keywords:
        search = query_value(f'"{keyword}"')
        keywords.append(f'<a class="keyword" href="/search?q={search}">{escape(keyword)}</a>')
    if keywords:
        pieces.append(f'<p class="keywords">{" ".join(keywords)}</p>')
    return "\n".join(pieces)


class PaperCards:
    """The cards of one page, for one reader: signed out, or ``user`` with their
    collections (``saving``) and "not for me" papers (``dismissed``)."""

    def __init__(
        self,
        environment: Environment,
        *,
        user: object | None,
        csrf: str,
        path: str,
        query_string: str,
        saving: Saving | None,
        dismissed: Dismissals | None,
        comment_total: Callable[[StoredPaper], int],
    ) -> None:
        self._environment = environment
        self._user = user
        self._csrf = csrf
        self._path = path
        self._query_string = query_string
        self._saving = saving
        self._dismissed = dismissed
        self._comment_total = comment_total

    @cached_property
    def _csrf_input(self) -> str:
        return f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(self._csrf)}">'

    @cached_property
    def _back(self) -> str:
        """This page, its query string included: where signing in or a form returns to."""
        return self._path + (f"?{self._query_string}" if self._query_string else "")

    @cached_property
    def _next_input(self) -> str:
        return f'<input type="hidden" name="next" value="{escape(self._back)}">'

    @cached_property
    def _sign_in_to_save(self) -> Markup:
        return Markup(
            f'<a class="save-link" href="/signin?next={query_value(self._back)}" '
            'title="Sign in to save papers">'
            "☆ Save</a>"
        )

    @cached_property
    def _organization_name(self) -> Callable[[str], str]:
        display: Callable[[str], str] = self._environment.filters["organization_name"]
        return display

    def card(
        self,
        paper: StoredPaper,
        count: int,
        is_voted: bool,
        snippet: str | None = None,
        why: str | None = None,
        rank: int | None = None,
    ) -> Markup:
        """The card: upvotes, title, organisation, authors and date, comments, links,
        categories, TL;DR and keywords, the snippet (safe HTML) or the abstract's start,
        why it matched, and the save and "not for me" controls."""
        paper_path = f"/papers/{url_id(paper.arxiv_id)}"
        shown_rank = f'<span class="rank">{escape(str(rank))}</span>' if rank else ""
        title = f'{shown_rank}<a href="{paper_path}">{escape(paper.shown_title)}</a>'
        organization = ""
        if paper.organization:
            name = self._organization_name(paper.organization)
            organization = (
                f'<a class="org" href="/organizations/{path_segment(name)}">{escape(name)}</a> · '
            )
        comments = self._comment_total(paper)
        discussion = (
            f' · <a class="comments" href="{paper_path}#discussion">'
            f"{comments} comment{'' if comments == 1 else 's'}</a>"
            if comments
            else ""
        )
        if snippet:
            text = f'<p class="snippet">{snippet}</p>'
        else:
            start = do_truncate(self._environment, paper.abstract, ABSTRACT_CHARACTERS, end="…")
            text = f'<p class="abstract">{escape(start)}</p>'
        reason = f'\n    <p class="why">Why: {escape(why)}</p>' if why else ""
        not_for_me = f"\n  {self.not_for_me_button(paper)}" if self._user else ""
        return Markup(
            f'<article class="card" data-id="{escape(paper.arxiv_id)}">\n'
            f"  {self.upvote_button(paper, count, is_voted)}\n"
            '  <div class="card-body">\n'
            f'    <h3 class="title">{title}</h3>\n'
            '    <p class="meta">\n'
            f"      {organization}{authors_and_date(paper)}{discussion}\n"
            f"      {links(paper)}\n"
            "    </p>\n"
            f"    {tags(paper)}\n"
            f"    {triage(paper)}\n"
            f"    {text}{reason}\n"
            "  </div>\n"
            f"  {self.save_control(paper)}{not_for_me}\n"
            "</article>"
        )

    def upvote_button(self, paper: StoredPaper, count: int, is_voted: bool) -> Markup:
        """The upvote form: the count, pressed when the reader has voted."""
        return Markup(
            f'<form class="vote" method="post" action="/papers/{url_id(paper.arxiv_id)}/upvote">\n'
            f"  {self._csrf_input}\n"
            f"  {self._next_input}\n"
            f'  <button type="submit" class="upvote{" voted" if is_voted else ""}" '
            f'aria-pressed="{"true" if is_voted else "false"}" '
            f'title="{"Withdraw your upvote" if is_voted else "Upvote"}" '
            f'data-paper="{escape(paper.arxiv_id)}">\n'
            '    <span class="arrow" aria-hidden="true">▲</span>'
            '<span class="visually-hidden">Upvotes: </span>'
            f'<span class="count">{escape(str(count))}</span>\n'
            "  </button>\n"
            "</form>"
        )

    def save_control(self, paper: StoredPaper) -> Markup:
        """Signed in: a menu that puts the paper in or takes it out of each collection, or
        saves it in a new one. Signed out: a link to sign in."""
        if not (self._user and self._saving):
            return self._sign_in_to_save
        saving = self._saving
        saved = saving.saved(paper)
        paper_id = escape(paper.arxiv_id)
        options = []
        for collection in saving.collections:
            inside = saving.has(collection, paper)
            private = "" if collection.is_public else ' <span class="muted">(private)</span>'
            options.append(
                f'<form method="post" action="/collections/{escape(str(collection.id))}/papers" '
                'class="save-toggle">\n'
                f"      {self._csrf_input}\n"
                f'      <input type="hidden" name="arxiv_id" value="{paper_id}">\n'
                '      <input type="hidden" name="change" '
                f'value="{"remove" if inside else "add"}">\n'
                f'      <button type="submit" class="save-option{" in" if inside else ""}" '
                f'aria-pressed="{"true" if inside else "false"}">'
                f'<span class="mark" aria-hidden="true">{"✓" if inside else "+"}</span> '
                f"{escape(collection.name)}{private}</button>\n"
                "    </form>"
            )
        menu = "".join(f"\n    {option}" for option in options)
        return Markup(
            f'<details class="save" data-paper="{paper_id}">\n'
            f'  <summary class="save-summary{" saved" if saved else ""}" '
            f'title="Save to a collection">{"★ Saved" if saved else "☆ Save"}</summary>\n'
            f'  <div class="save-menu">{menu}\n'
            '    <form method="post" action="/collections" class="save-new">\n'
            f"      {self._csrf_input}\n"
            f'      <input type="hidden" name="arxiv_id" value="{paper_id}">\n'
            '      <input type="text" name="name" maxlength="200" placeholder="New collection" '
            'aria-label="New collection name" required>\n'
            '      <button type="submit" class="button small">Create &amp; save</button>\n'
            "    </form>\n"
            "  </div>\n"
            "</details>"
        )

    def not_for_me_button(self, paper: StoredPaper) -> Markup:
        """Signed in: "not for me" (shows fewer papers like this), or undo it."""
        if not (self._user and self._dismissed):
            return Markup("")
        marked = self._dismissed.has(paper)
        title = (
            "Undo: show papers like this again" if marked else "Not for me: show fewer like this"
        )
        return Markup(
            f'<form class="not-for-me" method="post" '
            f'action="/papers/{url_id(paper.arxiv_id)}/not-for-me">\n'
            f"  {self._csrf_input}\n"
            f'  <input type="hidden" name="change" value="{"remove" if marked else "add"}">\n'
            f"  {self._next_input}\n"
            f'  <button type="submit" class="not-for-me-button{" marked" if marked else ""}" '
            f'aria-pressed="{"true" if marked else "false"}" '
            f'data-paper="{escape(paper.arxiv_id)}" title="{title}">'
            f"{'↺ Undo not for me' if marked else '✕ Not for me'}</button>\n"
            "</form>"
        )

    def triage(self, paper: StoredPaper) -> Markup:
        """The TL;DR and keywords, as on a card (the paper page shows them alone)."""
        return Markup(triage(paper))
