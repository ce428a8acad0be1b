"""One ``paperfeed serve`` worker's uvicorn server.

It serves its own listening socket (the only worker), or the connections the parent's
:class:`~paperfeed.web.connection_balancer.ConnectionBalancer` hands over a channel,
reporting each one's close back. Once started, it keeps its long-lived heap out of the
garbage collector's walks (:class:`~paperfeed.web.heap_freezer.HeapFreezer`): what the app
built at startup (index, vocabulary, routes, templates) and what its caches keep live as
long as the worker, and walking them on every full collection took 100-155 ms of a search
here and set the p99 (docs/benchmarks.md). Only a serving process does this: a program that
builds the app for itself (the tests, a script) keeps its collector as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Any

import uvicorn

from paperfeed.web.connection_balancer import CLOSED
from paperfeed.web.heap_freezer import HeapFreezer


class WorkerServer(uvicorn.Server):
    """``run(sockets=[listener])`` serves the listener; with a ``channel`` it listens on
    nothing and serves what arrives over the channel."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket | None = None) -> None:
        super().__init__(config)
        self.channel = channel

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[] if self.channel is not None else sockets)
        if self.should_exit:
            return
        HeapFreezer().install()
        if self.channel is not None:
            loop = asyncio.get_running_loop()
            self.channel.setblocking(False)
            loop.add_reader(self.channel.fileno(), self._take_connections, loop)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.channel is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.channel.fileno())
        await super().shutdown(sockets=sockets)

    def _take_connections(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self.channel is not None
        while True:
            try:
                _message, descriptors, _flags, _address = socket.recv_fds(self.channel, 16, 8)
            except (BlockingIOError, InterruptedError):
                return
            for descriptor in descriptors:
                connection = socket.socket(fileno=descriptor)
                if self.should_exit:
                    connection.close()
                    self._report_closed()
                    continue
                loop.create_task(
                    loop.connect_accepted_socket(self._protocol_factory(loop), connection)
                )

    def _protocol_factory(self, loop: asyncio.AbstractEventLoop) -> Callable[[], Any]:
        config = self.config

        def create_protocol() -> Any:
            # what uvicorn.Server.startup makes for a connection it accepted itself
            protocol = config.http_protocol_class(  # type: ignore[call-arg]
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=loop,
            )
            connection_lost = protocol.connection_lost

            def report_connection_lost(error: Exception | None) -> None:
                try:
                    connection_lost(error)
                finally:
                    self._report_closed()

            protocol.connection_lost = report_connection_lost  # type: ignore[method-assign,assignment]
            return protocol

        return create_protocol

    def _report_closed(self) -> None:
        assert self.channel is not None
        with contextlib.suppress(OSError):
            self.channel.send(CLOSED, socket.MSG_DONTWAIT)
