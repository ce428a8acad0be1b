"""``/mcp`` builds its MCP server on the first request: once, however many clients call
at once, and it answers as the server built up front did. (``tests/test_mcp.py`` drives
every tool with the SDK's own client.)"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from paperfeed.config import Settings
from paperfeed.search import SearchEngine
from paperfeed.store import Store
from paperfeed.web import create_app
from paperfeed.web.mcp_endpoint import LazyMcpEndpoint
from paperfeed.web.mcp_server import build_mcp_server

LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
HEADERS = {"Accept": "application/json, text/event-stream"}


def _tool_names(answer: Any) -> set[str]:  # httpx's or the test client's response
    assert answer.status_code == 200, answer.text
    return {tool["name"] for tool in answer.json()["result"]["tools"]}


def _mcp_endpoint(app: Any) -> LazyMcpEndpoint:
    for route in app.routes:
        endpoint = getattr(route, "endpoint", None)
        if isinstance(endpoint, LazyMcpEndpoint):
            return endpoint
    raise AssertionError("the site has no /mcp route")


def test_the_site_builds_its_mcp_server_when_a_client_first_calls(settings: Settings) -> None:
    app = create_app(settings)
    endpoint = _mcp_endpoint(app)
    with TestClient(app) as client:
        assert client.get("/api/papers/search", params={"q": "graphs"}).status_code == 200
        assert not endpoint.built  # pages and the API do not build it
        first = _tool_names(client.post("/mcp", json=LIST_TOOLS, headers=HEADERS))
        assert endpoint.built
        assert {"search", "paper", "for_you", "add_to_collection"} <= first
        assert _tool_names(client.post("/mcp", json=LIST_TOOLS, headers=HEADERS)) == first
        # a bad request is answered by the SDK, as JSON-RPC, not by the site
        json_headers = {**HEADERS, "Content-Type": "application/json"}
        refused = client.post("/mcp", content=b"{not json", headers=json_headers)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == -32700


def test_clients_calling_at_once_share_one_server(settings: Settings) -> None:
    store = Store(settings.database_url)
    engine = SearchEngine(store, settings)
    builds: list[int] = []
    lock = threading.Lock()

    def build() -> Any:
        with lock:
            builds.append(1)
        return build_mcp_server(settings, store, engine)

    endpoint = LazyMcpEndpoint(build)
    app = Starlette(routes=[endpoint.route()])

    async def six_clients_at_once() -> list[set[str]]:
        answers: list[set[str]] = []
        transport = httpx.ASGITransport(app=app)
        async with (
            endpoint.running(),
            httpx.AsyncClient(transport=transport, base_url="http://site") as http,
        ):

            async def call() -> None:
                answers.append(
                    _tool_names(await http.post("/mcp", json=LIST_TOOLS, headers=HEADERS))
                )

            async with anyio.create_task_group() as clients:
                for _ in range(6):
                    clients.start_soon(call)
        return answers

    answers = anyio.run(six_clients_at_once)
    store.close()
    assert len(builds) == 1
    assert len(answers) == 6 and all(names == answers[0] for names in answers)
    assert len(answers[0]) == 11


def test_the_endpoint_refuses_to_answer_outside_the_sites_lifespan(settings: Settings) -> None:
    endpoint = LazyMcpEndpoint(lambda: pytest.fail("built outside the lifespan"))
    transport = httpx.ASGITransport(app=Starlette(routes=[endpoint.route()]))

    async def call() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://site") as http:
            await http.post("/mcp", json=LIST_TOOLS, headers=HEADERS)

    with pytest.raises(RuntimeError, match="lifespan"):
        anyio.run(call)
    assert not endpoint.built


def test_mcp_takes_only_post_and_says_so(settings: Settings) -> None:
    """The server is stateless: a GET (an SSE stream with nothing to carry, held open until
    the client leaves) and a DELETE (no session to end) are refused at once with 405 and
    an ``Allow`` naming POST, as the MCP transport lets a server answer."""
    app = create_app(settings)
    endpoint = _mcp_endpoint(app)
    sse = {"Accept": "text/event-stream"}

    async def call() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://site") as http:
            with anyio.fail_after(10):  # an SSE stream opened by mistake never ends
                return [
                    await http.get("/mcp", headers=sse),
                    await http.delete("/mcp", headers=sse),
                    await http.put("/mcp", json=LIST_TOOLS, headers=HEADERS),
                    await http.patch("/mcp", json=LIST_TOOLS, headers=HEADERS),
                    await http.options("/mcp"),
                ]

    *refused, options = anyio.run(call)
    for answer in refused:
        assert answer.status_code == 405, (answer.request.method, answer.text)
        assert answer.headers["allow"] == "OPTIONS, POST", answer.request.method
    assert options.status_code == 204 and options.headers["allow"] == "OPTIONS, POST"
    assert not endpoint.built  # refused by the route, before the server is built
