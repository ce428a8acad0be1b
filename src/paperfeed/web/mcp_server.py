"""The MCP server: paperfeed's search, papers, lists, recommendations and collections as
tools for agents, over stdio (``paperfeed mcp``) or streamable HTTP (``/mcp`` on
``paperfeed serve``). Built on the ``mcp`` SDK's ``MCPServer``.

Every tool calls the library functions the JSON API calls (``hub_answers``, the search
engine, ``recommend``, ``paperfeed.collections``), so answers, limits and errors are the
API's. Without a token the tools only read public things; ``for_you`` and
``collections`` need a token (any scope), ``add_to_collection`` one with write scope.
Over HTTP the token is the request's ``Authorization: Bearer`` header; over stdio it is
given when the server starts. A bad argument or a refused call is a tool error result
(``isError``) carrying the library's message, never a crash of the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from paperfeed import __version__, moderation
from paperfeed import collections as lists
from paperfeed.accounts import RateLimitedError, User, token_scope, user_for_token
from paperfeed.collections import (
    CollectionError,
    CollectionNotFoundError,
    NotYourCollectionError,
    PaperWithdrawnError,
)
from paperfeed.collections.exporting import collection_json
from paperfeed.config import Settings
from paperfeed.feedback import set_not_for_me
from paperfeed.ingest import normalize_paper_id, quoted
from paperfeed.ingest.identifiers import url_id
from paperfeed.models import StoredPaper
from paperfeed.search import SORTS, SearchEngine, SearchError
from paperfeed.search.daily_listing import DAILY_SORTS, MAX_LIMIT, DailyQuery, daily_papers
from paperfeed.search.feeds import FeedError, FeedItem, total_upvotes, trending
from paperfeed.search.recommending import recommend
from paperfeed.store import Store
from paperfeed.web.hub_answers import SEARCH_LIMIT, SearchRequest, paper_answer, run_search
from paperfeed.web.paper_markdown import paper_markdown
from paperfeed.web.presentation import hit_json

NAME = "paperfeed"
INSTRUCTIONS = (
    "paperfeed is a daily-papers site (machine-learning papers from arXiv and the daily "
    "papers feed). Use `search` to find papers on a topic, `paper` to read one (metadata "
    "and a markdown page with its abstract, discussion and similar papers), `similar` for "
    "related work, `daily`/`weekly`/`monthly` for what was on the daily list in a period, "
    "`trending` for what is popular now. With a token: `for_you` (recommendations), "
    "`collections` (the user's reading lists) and `add_to_collection` (write scope; a "
    "collection by id, or by name: made when missing). "
    "Paper ids are arXiv ids such as 2401.00165."
)
_T = TypeVar("_T")
# Library errors whose message is for the caller (it names the bad value).
_CALLER_ERRORS: tuple[type[Exception], ...] = (
    FeedError,
    SearchError,
    CollectionError,
    CollectionNotFoundError,
    NotYourCollectionError,
    PaperWithdrawnError,
    RateLimitedError,
    LookupError,
    ValueError,
)
_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


class _Tools:
    """The tools' bodies (synchronous: they run in a worker thread)."""

    def __init__(self, settings: Settings, store: Store, engine: SearchEngine) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine

    def _engine(self) -> SearchEngine:
        self.engine.reload_if_changed()
        return self.engine

    def _paper(self, paper_id: str) -> StoredPaper:
        normalized = normalize_paper_id(paper_id)
        if normalized is None:
            raise ToolError(
                f"{quoted(paper_id)} is not a paper id "
                "(expected an arXiv id such as 2401.00165, or a DOI)"
            )
        paper = self.store.get_paper(normalized)
        if paper is None or moderation.is_hidden(self.store, paper):
            raise ToolError(f"no paper {normalized} in this paperfeed")
        return paper

    def _url(self, paper: StoredPaper) -> str:
        return f"{self.settings.base_url.rstrip('/')}/papers/{url_id(paper.arxiv_id)}"

    def _listed(self, items: list[FeedItem]) -> list[dict[str, Any]]:
        """Feed items, compact: what an agent needs to pick papers to read."""
        return [
            {
                "id": item.paper.arxiv_id,
                "title": item.paper.title,
                "authors": item.paper.authors[:5] + (["…"] if len(item.paper.authors) > 5 else []),
                "organization": item.paper.organization,
                "date": item.paper.date,
                "upvotes": item.upvotes,
                "submitted_by": item.paper.submitted_by,
                "url": self._url(item.paper),
            }
            for item in items
        ]

    def search(self, request: SearchRequest) -> dict[str, Any]:
        results = run_search(self._engine(), request)
        upvotes = total_upvotes(self.store, [hit.paper for hit in results.hits])
        return {
            "query": results.query,
            "total": results.total,
            "offset": results.offset,
            "close_match": results.close_match,
            "notes": list(results.notes),
            "hits": [
                hit_json(hit, upvotes[hit.paper.key]) | {"url": self._url(hit.paper)}
                for hit in results.hits
            ],
        }

    def paper(self, paper_id: str) -> dict[str, Any]:
        paper = self._paper(paper_id)
        base = self.settings.base_url.rstrip("/")
        return {
            "paper": paper_answer(self.store, paper),
            "markdown": paper_markdown(self.store, self._engine(), paper, base),
        }

    def similar(self, paper_id: str, limit: int) -> list[dict[str, Any]]:
        paper = self._paper(paper_id)
        hits = self._engine().similar(paper.arxiv_id, limit)
        upvotes = total_upvotes(self.store, [hit.paper for hit in hits])
        return [
            hit_json(hit, upvotes[hit.paper.key]) | {"url": self._url(hit.paper)} for hit in hits
        ]

    def daily(self, query: DailyQuery) -> list[dict[str, Any]]:
        half_life = self.settings.trending_half_life_hours
        return self._listed(daily_papers(self.store, query, half_life))

    def trending(self, limit: int) -> list[dict[str, Any]]:
        return self._listed(trending(self.store, self.settings.trending_half_life_hours, limit))

    def for_you(self, user: User, limit: int) -> dict[str, Any]:
        result = recommend(self._engine(), user.id, limit=limit)
        upvotes = total_upvotes(self.store, [item.paper for item in result.items])
        return {
            "method": result.method,
            "positives": result.positives,
            "notes": list(result.notes),
            "papers": [
                {
                    "id": item.paper.arxiv_id,
                    "title": item.paper.title,
                    "date": item.paper.date,
                    "upvotes": upvotes[item.paper.key],
                    "score": round(item.score, 6),
                    "because": (
                        f"you {item.reason} {item.because.arxiv_id} ({item.because.title})"
                        if item.because is not None
                        else f"you {item.reason} {item.because_title}"
                    ),
                    "url": self._url(item.paper),
                }
                for item in result.items
            ],
        }

    def collections(self, user: User) -> list[dict[str, Any]]:
        answer = []
        for collection in lists.collections_of(self.store, user):
            papers = lists.collection_papers(self.store, collection)
            answer.append(
                collection_json(collection)
                | {"papers": [{"id": paper.arxiv_id, "title": paper.title} for paper, _ in papers]}
            )
        return answer

    def not_for_me(self, user: User, paper_id: str, undo: bool) -> dict[str, Any]:
        paper = self._paper(paper_id)
        result = set_not_for_me(self.store, user, paper.arxiv_id, not undo)
        return {"id": result.arxiv_id, "not_for_me": result.not_for_me, "changed": result.changed}

    def add_to_collection(self, user: User, collection_id: int, paper_id: str) -> dict[str, Any]:
        added = lists.add_paper(self.store, user, collection_id, paper_id)
        paper = lists.stored_paper(self.store, paper_id)
        return {"collection": collection_id, "id": paper.arxiv_id, "saved": True, "added": added}

    def add_to_named_collection(self, user: User, name: str, paper_id: str) -> dict[str, Any]:
        """Save in the user's collection called ``name`` (any case, spaces collapsed), made
        (private) when they have none by that name; nothing is made for a paper that
        cannot be saved."""
        paper = self._paper(paper_id)
        wanted = " ".join(name.split()).casefold()
        found = next(
            (c for c in lists.collections_of(self.store, user) if c.name.casefold() == wanted),
            None,
        )
        if found is None and paper.withdrawn_on:
            raise PaperWithdrawnError(lists.withdrawn_message(paper))
        collection = found or lists.create_collection(self.store, user, name)
        added = lists.add_paper(self.store, user, collection.id, paper.arxiv_id)
        answer = {"collection": collection.id, "name": collection.name, "created": found is None}
        return answer | {"id": paper.arxiv_id, "saved": True, "added": added}


async def _run(function: Callable[[], _T]) -> _T:
    """Run a tool body in a worker thread; a library error becomes a tool error."""
    try:
        return await anyio.to_thread.run_sync(function)
    except ToolError:
        raise
    except _CALLER_ERRORS as error:
        raise ToolError(error.args[0] if error.args else str(error)) from None


def _bearer(context: Context[Any, Any] | None) -> str | None:
    headers = context.headers if context is not None else None
    if not headers:
        return None
    value = headers.get("authorization") or headers.get("Authorization") or ""
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ToolError("the Authorization header must be 'Bearer <token>'")
    return token.strip()


Query = Annotated[
    str,
    Field(
        max_length=250,
        description=(
            'The search, in the site\'s syntax: words, "exact phrases", -excluded, '
            'ti:/au:"Name"/abs: field prefixes, cat:cs.LG, since:2025-01, until:2025-06-30, '
            "or an arXiv id or URL."
        ),
    ),
]
PaperId = Annotated[str, Field(description="an arXiv id, e.g. 2401.00165")]
Day = Annotated[str | None, Field(description="a day, YYYY-MM-DD (default: the latest list)")]
Page = Annotated[int, Field(ge=0, le=10_000, description="page, from 0")]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="papers per page (1-100)")]
DailySort = Annotated[
    str,
    Field(description=f"one of {', '.join(DAILY_SORTS)}: most upvoted first, or trending"),
]
Submitter = Annotated[str | None, Field(description="only papers this user (handle) submitted")]


def build_mcp_server(
    settings: Settings, store: Store, engine: SearchEngine, token: str | None = None
) -> MCPServer:
    """The MCP server over one store and engine (the site's own, or the CLI's).

    Args:
        token: the API token of the user the tools act for (stdio); None takes it from
            each HTTP request's ``Authorization: Bearer`` header instead.
    """
    tools = _Tools(settings, store, engine)
    root = logging.getLogger()
    root_handlers, root_level = list(root.handlers), root.level
    server: MCPServer = MCPServer(
        NAME,
        title="paperfeed",
        instructions=INSTRUCTIONS,
        version=__version__,
        website_url=settings.base_url,
        log_level="WARNING",
    )
    # the SDK's constructor calls logging.basicConfig, which puts a RichHandler on a root
    # logger that has none: every paperfeed record (the request lines, JSON or text) then
    # came out twice. The site's logging is its own (operations/logs.py): undo it.
    root.handlers[:] = root_handlers
    root.setLevel(root_level)

    def caller(context: Context[Any, Any] | None, write: bool = False) -> User:
        given = token if token is not None else _bearer(context)
        if not given:
            raise ToolError(
                "this tool acts for a user: give an API token (made on /account) as "
                "'Authorization: Bearer <token>' or to `paperfeed mcp --token`"
            )
        user = user_for_token(store, given)
        if user is None:
            raise ToolError("the API token is not valid (create one on /account)")
        if write and token_scope(store, given) != "write":
            raise ToolError("the API token is read-only: this tool needs one with write scope")
        return user

    @server.tool(annotations=_READ_ONLY)
    async def search(
        query: Query,
        cat: Annotated[
            list[str] | str | None,
            Field(description="only papers in any of these categories (one, or a list)"),
        ] = None,
        since: Annotated[str | None, Field(description="YYYY, YYYY-MM or YYYY-MM-DD")] = None,
        until: Annotated[str | None, Field(description="YYYY, YYYY-MM or YYYY-MM-DD")] = None,
        sort: Annotated[str, Field(description=f"one of {', '.join(SORTS)}")] = "relevance",
        limit: Annotated[int, Field(ge=1, le=SEARCH_LIMIT)] = 10,
        offset: Annotated[int, Field(ge=0, le=10_000)] = 0,
    ) -> dict[str, Any]:
        """Search the papers (hybrid: words and meaning). Use for "papers about X",
        "papers by author Y", "X in cs.CV since 2025". Answers the hits, best first, with
        a snippet, the matched terms and a url; `paper` reads one in full."""
        categories = (cat,) if isinstance(cat, str) else tuple(cat or ())
        request = SearchRequest(query, limit, offset, sort, categories, since, until)
        return await _run(lambda: tools.search(request))

    @server.tool(annotations=_READ_ONLY)
    async def paper(id: PaperId) -> dict[str, Any]:
        """Read one paper: its metadata (authors, dates, upvotes, links, categories) and
        a markdown page with the abstract, the discussion and similar papers."""
        return await _run(lambda: tools.paper(id))

    @server.tool(annotations=_READ_ONLY)
    async def similar(
        id: PaperId, limit: Annotated[int, Field(ge=1, le=50)] = 10
    ) -> dict[str, Any]:
        """Papers most like a given paper (related work), most similar first."""
        return {"id": id, "similar": await _run(lambda: tools.similar(id, limit))}

    @server.tool(annotations=_READ_ONLY)
    async def daily(
        date: Day = None,
        sort: DailySort = "publishedAt",
        submitter: Submitter = None,
        page: Page = 0,
        limit: Limit = 50,
    ) -> dict[str, Any]:
        """The daily papers list of one day (default: the newest lists), most upvoted
        first. Use for "what came out today / on 2026-08-21"."""
        query = DailyQuery(date=date, sort=sort, submitter=submitter, page=page, limit=limit)
        return {"papers": await _run(lambda: tools.daily(query))}

    @server.tool(annotations=_READ_ONLY)
    async def weekly(
        week: Annotated[str, Field(description="an ISO week, YYYY-Www, e.g. 2026-W34")],
        sort: DailySort = "publishedAt",
        submitter: Submitter = None,
        page: Page = 0,
        limit: Limit = 50,
    ) -> dict[str, Any]:
        """The papers of a week's daily lists, most upvoted first ("best of the week")."""
        query = DailyQuery(week=week, sort=sort, submitter=submitter, page=page, limit=limit)
        return {"papers": await _run(lambda: tools.daily(query))}

    @server.tool(annotations=_READ_ONLY)
    async def monthly(
        month: Annotated[str, Field(description="a month, YYYY-MM, e.g. 2026-08")],
        sort: DailySort = "publishedAt",
        submitter: Submitter = None,
        page: Page = 0,
        limit: Limit = 50,
    ) -> dict[str, Any]:
        """The papers of a month's daily lists, most upvoted first ("best of the month")."""
        query = DailyQuery(month=month, sort=sort, submitter=submitter, page=page, limit=limit)
        return {"papers": await _run(lambda: tools.daily(query))}

    @server.tool(name="trending", annotations=_READ_ONLY)
    async def trending_tool(
        limit: Annotated[int, Field(ge=1, le=200)] = 20,
    ) -> dict[str, Any]:
        """Papers popular right now: ordered by upvotes that decay with age."""
        return {"papers": await _run(lambda: tools.trending(limit))}

    @server.tool(annotations=_READ_ONLY)
    async def for_you(
        context: Context[Any, Any], limit: Annotated[int, Field(ge=1, le=200)] = 20
    ) -> dict[str, Any]:
        """Recent papers recommended for the token's user, from their upvotes and saved
        papers, each with the paper of theirs it resembles. Needs a token."""
        user = caller(context)
        return await _run(lambda: tools.for_you(user, limit))

    @server.tool(annotations=_READ_ONLY)
    async def collections(context: Context[Any, Any]) -> dict[str, Any]:
        """The token's user's collections (reading lists) with their papers. Needs a
        token; use the ids with `add_to_collection`."""
        user = caller(context)
        return {"collections": await _run(lambda: tools.collections(user))}

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, idempotent_hint=True))
    async def add_to_collection(
        context: Context[Any, Any],
        id: PaperId,
        collection_id: Annotated[
            int | None, Field(ge=1, description="an existing collection's id, from `collections`")
        ] = None,
        collection_name: Annotated[
            str | None,
            Field(
                max_length=200,
                description="or a collection's name: the user's collection of that name, "
                "made (private) when there is none, e.g. 'To read'",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Save a paper in one of the token's user's collections (reading lists), given
        by `collection_id` or by `collection_name` (made when the user has none by that
        name, so a user without collections can save too). Needs a token with write
        scope; `added` is false when the paper was there already."""
        user = caller(context, write=True)
        if (collection_id is None) == (collection_name is None):
            raise ToolError(
                "give one of collection_id (from `collections`) or collection_name "
                f"(got {'both' if collection_id is not None else 'neither'})"
            )
        if collection_name is not None:
            name = collection_name
            return await _run(lambda: tools.add_to_named_collection(user, name, id))
        return await _run(lambda: tools.add_to_collection(user, collection_id or 0, id))

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, idempotent_hint=True))
    async def not_for_me(
        context: Context[Any, Any],
        id: PaperId,
        undo: Annotated[bool, Field(description="take a mark back")] = False,
    ) -> dict[str, Any]:
        """Mark a paper "not for me" for the token's user: `for_you` never shows it again
        and learns from it (undo=true takes it back). Needs a token with write scope."""
        user = caller(context, write=True)
        return await _run(lambda: tools.not_for_me(user, id, undo))

    return server
