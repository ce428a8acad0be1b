"""The MCP server driven by the ``mcp`` SDK's own client: over stdio (``paperfeed mcp``
spawned as an agent would) and over streamable HTTP (``/mcp`` on the running site).
Every tool is listed and called; bad arguments and refused calls are tool errors, and
the server goes on answering after them."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from hub_site import TOP_PAPER
from paperfeed.accounts import create_api_token, sign_up
from paperfeed.collections import collection_papers, create_collection, visible_collection
from paperfeed.store.accounts import User
from running_site import LATEST_DAY, Site

mcp = pytest.importorskip("mcp")
httpx2 = pytest.importorskip("httpx2")
from mcp import Client, StdioServerParameters  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

TOOLS = {
    "search",
    "paper",
    "similar",
    "daily",
    "weekly",
    "monthly",
    "trending",
    "for_you",
    "collections",
    "add_to_collection",
    "not_for_me",
}
SOURCE = Path(__file__).resolve().parents[1] / "src"
Connect = Callable[[str | None], AbstractAsyncContextManager[Any]]


def _stdio(site: Site) -> Connect:
    @asynccontextmanager
    async def connect(token: str | None) -> AsyncIterator[Any]:
        environment = {
            "PAPERFEED_HOME": str(site.settings.home),
            "PAPERFEED_DATABASE_URL": site.settings.database_url,
            "PAPERFEED_ARXIV_API_URL": "",
            "PYTHONPATH": os.pathsep.join([str(SOURCE), os.environ.get("PYTHONPATH", "")]),
        }
        if token:
            environment["PAPERFEED_MCP_TOKEN"] = token
        server = StdioServerParameters(
            command=sys.executable, args=["-m", "paperfeed.cli", "mcp"], env=environment
        )
        async with Client(server, read_timeout_seconds=120) as client:
            yield client

    return connect


def _http(site: Site) -> Connect:
    @asynccontextmanager
    async def connect(token: str | None) -> AsyncIterator[Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        # the SDK's HTTP client library; the token goes in each request's headers
        http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300))
        transport = streamable_http_client(f"{site.url}/mcp", http_client=http)
        async with http, Client(transport, read_timeout_seconds=120) as client:
            yield client

    return connect


def _answer(result: Any) -> Any:
    assert result.is_error is False, result.content
    return json.loads(result.content[0].text)


def _error(result: Any) -> str:
    assert result.is_error is True, result.content
    text: str = result.content[0].text
    return text


def _user(site: Site) -> tuple[User, int]:
    user = sign_up(site.store, "agent@example.org", "a long enough password", "agent owner")
    collection = create_collection(site.store, user, "To read", "", False)
    return user, collection.id


async def _exercise(site: Site, connect: Connect, every_token: bool = True) -> None:
    """List and call every tool without a token, then (``every_token``: with a bad and a
    read-only token too) with a write token."""
    user, collection_id = _user(site)
    write_token = create_api_token(site.store, user, "agent", "write")
    read_token = create_api_token(site.store, user, "agent (read)", "read")

    async with connect(None) as client:
        listed = (await client.list_tools()).tools
        assert {tool.name for tool in listed} == TOOLS
        for tool in listed:
            assert tool.description and len(tool.description) > 40, tool.name
            assert tool.input_schema["type"] == "object"

        found = _answer(await client.call_tool("search", {"query": "terminal agents", "limit": 3}))
        assert found["hits"][0]["id"] == "2608.18580" and len(found["hits"]) == 3
        filtered = _answer(
            await client.call_tool(
                "search", {"query": "agents", "cat": ["cs.CL"], "since": "2026-08", "limit": 5}
            )
        )
        assert "cat:cs.CL" in filtered["query"] or filtered["hits"] == [] or filtered["notes"]
        # one category as a string, as agents often give it, is that category
        one = _answer(
            await client.call_tool(
                "search", {"query": "agents", "cat": "cs.CL", "since": "2026-08", "limit": 5}
            )
        )
        assert one == filtered
        paper = _answer(await client.call_tool("paper", {"id": TOP_PAPER}))
        assert paper["paper"]["id"] == TOP_PAPER and paper["paper"]["upvotes"] == 163
        assert paper["markdown"].startswith("# EnvHarness")
        similar = _answer(await client.call_tool("similar", {"id": TOP_PAPER, "limit": 4}))[
            "similar"
        ]
        assert len(similar) == 4 and TOP_PAPER not in {hit["id"] for hit in similar}
        day = _answer(await client.call_tool("daily", {"date": LATEST_DAY}))["papers"]
        assert len(day) == 18 and day[0]["id"] == TOP_PAPER
        week = _answer(await client.call_tool("weekly", {"week": "2026-W34", "limit": 100}))[
            "papers"
        ]
        assert len(week) == 100
        month = _answer(await client.call_tool("monthly", {"month": "2026-08", "limit": 5}))[
            "papers"
        ]
        assert len(month) == 5
        trending = _answer(await client.call_tool("trending", {"limit": 5}))["papers"]
        assert trending[0]["id"] == TOP_PAPER and len(trending) == 5

        # bad arguments: a tool error naming what was wrong, and the server goes on
        for name, arguments, named in [
            ("daily", {"limit": 0}, "limit"),
            ("daily", {"date": "2026-13-45"}, "2026-13-45"),
            ("daily", {"sort": "stars"}, "stars"),
            ("weekly", {"week": "2026-34"}, "2026-34"),
            ("daily", {"date": "2026-W34-5"}, "date '2026-W34-5'"),
            ("daily", {"date": "20260821"}, "date '20260821'"),
            ("weekly", {"week": "2026-W34\n"}, "week '2026-W34\\n'"),
            ("monthly", {"month": "２０26-08"}, "month '２０26-08'"),
            ("search", {"query": "agents", "sort": "stars"}, "stars"),
            ("search", {"query": "a" * 251}, "query"),
            ("search", {}, "query"),
            ("paper", {"id": "not-an-id"}, "not-an-id"),
            ("paper", {"id": "2608.00001"}, "2608.00001"),
            ("similar", {"id": TOP_PAPER, "limit": 1000}, "limit"),
            ("add_to_collection", {"collection_id": "x", "id": TOP_PAPER}, "collection_id"),
            (
                "add_to_collection",
                {"id": TOP_PAPER, "collection_name": "x" * 201},
                "collection_name",
            ),
        ]:
            message = _error(await client.call_tool(name, arguments))
            assert named in message, (name, message)
        # the tools that act for a user say they need a token
        for name, arguments in [
            ("for_you", {}),
            ("collections", {}),
            ("add_to_collection", {"collection_id": collection_id, "id": TOP_PAPER}),
            ("not_for_me", {"id": TOP_PAPER}),
        ]:
            assert "token" in _error(await client.call_tool(name, arguments)), name
        assert _answer(await client.call_tool("daily", {"date": LATEST_DAY, "limit": 1}))["papers"]

    if every_token:
        await _read_only(connect, read_token, collection_id)

    async with connect(write_token) as client:
        saved = _answer(
            await client.call_tool(
                "add_to_collection", {"collection_id": collection_id, "id": TOP_PAPER}
            )
        )
        assert saved == {"collection": collection_id, "id": TOP_PAPER, "saved": True, "added": True}
        again = _answer(
            await client.call_tool(
                "add_to_collection", {"collection_id": collection_id, "id": TOP_PAPER}
            )
        )
        assert again["added"] is False
        missing = _error(
            await client.call_tool("add_to_collection", {"collection_id": 999999, "id": TOP_PAPER})
        )
        assert "999999" in missing
        listed_again = _answer(await client.call_tool("collections", {}))["collections"]
        assert [paper["id"] for paper in listed_again[0]["papers"]] == [TOP_PAPER]
        recommended = _answer(await client.call_tool("for_you", {"limit": 5}))
        assert recommended["positives"] >= 1 and recommended["papers"]
        # "not for me" hides a recommendation, and undo brings it back
        top = recommended["papers"][0]["id"]
        marked = _answer(await client.call_tool("not_for_me", {"id": top}))
        assert marked == {"id": top, "not_for_me": True, "changed": True}
        after = _answer(await client.call_tool("for_you", {"limit": 5}))["papers"]
        assert top not in [paper["id"] for paper in after]
        undone = _answer(await client.call_tool("not_for_me", {"id": top, "undo": True}))
        assert undone["not_for_me"] is False and undone["changed"] is True

    collection = visible_collection(site.store, collection_id, user)
    assert [paper.arxiv_id for paper, _ in collection_papers(site.store, collection)] == [TOP_PAPER]


async def _read_only(connect: Connect, read_token: str, collection_id: int) -> None:
    async with connect("pf_not-a-real-token") as client:
        assert "not valid" in _error(await client.call_tool("collections", {}))

    async with connect(read_token) as client:
        mine = _answer(await client.call_tool("collections", {}))["collections"]
        assert [entry["id"] for entry in mine] == [collection_id]
        refused = _error(
            await client.call_tool(
                "add_to_collection", {"collection_id": collection_id, "id": TOP_PAPER}
            )
        )
        assert "write scope" in refused
        recommended = _answer(await client.call_tool("for_you", {"limit": 5}))
        assert "papers" in recommended and "method" in recommended


def test_mcp_over_stdio(site: Site) -> None:
    # each token is a server process of its own (given at start): two here, all over HTTP
    anyio.run(_exercise, site, _stdio(site), False)


def test_mcp_over_streamable_http(site: Site) -> None:
    anyio.run(_exercise, site, _http(site))


async def _save_without_a_collection(site: Site, connect: Connect) -> None:
    """A user with no collection yet saves papers by naming one: it is made once (private),
    found again by name in any case, and nothing is made for a paper that is not there."""
    user = sign_up(site.store, "fresh@example.org", "a long enough password", "fresh agent")
    token = create_api_token(site.store, user, "agent", "write")
    async with connect(token) as client:
        assert _answer(await client.call_tool("collections", {})) == {"collections": []}
        for name, arguments, named in [
            ("add_to_collection", {"id": TOP_PAPER}, "neither"),
            (
                "add_to_collection",
                {"id": TOP_PAPER, "collection_id": 1, "collection_name": "a"},
                "both",
            ),
            ("add_to_collection", {"id": "2608.00001", "collection_name": "To read"}, "2608.00001"),
            ("add_to_collection", {"id": TOP_PAPER, "collection_name": "   "}, "name is empty"),
        ]:
            assert named in _error(await client.call_tool(name, arguments)), arguments
        assert _answer(await client.call_tool("collections", {})) == {"collections": []}
        first = _answer(
            await client.call_tool(
                "add_to_collection", {"id": TOP_PAPER, "collection_name": "To read"}
            )
        )
        assert first["created"] is True and first["added"] is True and first["name"] == "To read"
        second = _answer(
            await client.call_tool(
                "add_to_collection", {"id": "2608.18580", "collection_name": " to  READ "}
            )
        )
        assert second["collection"] == first["collection"] and second["created"] is False
        (listed,) = _answer(await client.call_tool("collections", {}))["collections"]
        assert listed["is_public"] is False
        assert [paper["id"] for paper in listed["papers"]] == ["2608.18580", TOP_PAPER]


def test_mcp_saves_for_a_user_without_collections_over_http(site: Site) -> None:
    anyio.run(_save_without_a_collection, site, _http(site))
