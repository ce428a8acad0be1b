"""``/mcp`` on the site: the MCP server over streamable HTTP, built on its first request.

Building the server (eleven tools, each a pydantic model and a JSON schema) took ~47 ms of
CPU on a 2-core AMD EPYC, three quarters of ``create_app``; most sites and test servers
never see an MCP client, so a worker builds it when one first calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup, TaskStatus
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager as SessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send


def http_endpoint(server: MCPServer, path: str = "/mcp") -> tuple[ASGIApp, SessionManager]:
    """The streamable-HTTP handler for ``server`` at ``path`` and the session manager whose
    ``run()`` must be entered before the handler answers.

    Stateless, JSON answers: each POST is one exchange, so any worker process can answer
    it. DNS-rebinding protection (a check of ``Host``) is off: the tools act only for a
    bearer token, never for a browser's cookies, and the site runs under any host name.
    """
    app = server.streamable_http_app(
        streamable_http_path=path,
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    route = app.routes[0]
    assert isinstance(route, Route)
    return route.endpoint, server.session_manager


class LazyMcpEndpoint:
    """An ASGI app for ``path`` that builds the MCP server with ``build`` on the first
    request, then hands every request to it.

    The SDK's session manager runs a task group for the whole life of the site, so the
    site's lifespan enters ``running()``, and the manager is started inside that, on the
    lifespan's task, where it can also be stopped.
    """

    def __init__(self, build: Callable[[], MCPServer], path: str = "/mcp") -> None:
        self.path = path
        self._build = build
        self._handler: ASGIApp | None = None
        self._lock = anyio.Lock()
        self._tasks: TaskGroup | None = None

    def route(self) -> Route:
        """The route to add to the site: POST only. The server is stateless (each POST is
        one exchange), so it has no session to end with DELETE and nothing to send on the
        SSE stream a GET would open; such a stream would hold its connection until the
        client left. The MCP transport lets a server refuse that GET with 405, which the
        SDK's clients expect; the 405 names POST in ``Allow`` (RFC 9110 section 15.5.6)."""
        return Route(self.path, endpoint=self, methods=["POST"])

    @property
    def built(self) -> bool:
        """Whether a client has called, so the server is built."""
        return self._handler is not None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Keep the endpoint's tasks while the site runs; stop them when it stops."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                yield
            finally:
                self._tasks = None
                tasks.cancel_scope.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self._handler or await self._start()
        await handler(scope, receive, send)

    async def _start(self) -> ASGIApp:
        async with self._lock:  # two first requests at once build one server
            if self._handler is None:
                if self._tasks is None:
                    raise RuntimeError("/mcp answers only inside the site's lifespan")
                # off the event loop: the build is pure CPU, and other requests go on
                server = await anyio.to_thread.run_sync(self._build)
                handler, sessions = http_endpoint(server, self.path)
                await self._tasks.start(_run_sessions, sessions)
                self._handler = handler
            return self._handler


async def _run_sessions(
    sessions: SessionManager, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
) -> None:
    async with sessions.run():
        task_status.started()
        await anyio.sleep_forever()
