"""Handing each new connection to the worker with the fewest open ones.

With SO_REUSEPORT the kernel picks a worker by hashing the connection's addresses, so a
client (a reverse proxy's pool, a load generator) that keeps 16 connections open gets an
uneven split as often as not: 12 and 4 was measured here, and the worker with 12 answered
each request three times slower than the other, which set the p99. Here the parent process
accepts, counts what each worker holds open, and passes the socket to the least loaded one
over a Unix datagram pair (SCM_RIGHTS); the worker (:mod:`paperfeed.web.worker_server`)
serves it with uvicorn's own protocol and reports each close back. Only accepting goes
through the parent: requests and answers flow between the client and the worker directly.
"""

from __future__ import annotations

import contextlib
import logging
import select
import selectors
import socket
import time
from dataclasses import dataclass

log = logging.getLogger("paperfeed.web")
ACCEPTS_PER_WAKE = 64  # connections taken per readiness event before looking at the rest
HAND_OVER_TIMEOUT_SECONDS = 2.0
CLOSED = b"x"  # a worker's report that one of its connections closed


def channel_pair() -> tuple[socket.socket, socket.socket]:
    """(the parent's end, the worker's end) of a Unix datagram pair: message boundaries
    are kept, so each handed-over socket and each close report is one datagram."""
    parent_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    # non-blocking: with a timeout set, Python would wait that long on each empty read
    parent_end.setblocking(False)
    return parent_end, worker_end


@dataclass
class _Worker:
    channel: socket.socket
    open: int = 0  # connections handed over and not yet reported closed
    handed: int = 0  # all handed over: breaks ties, so equal workers take turns


class ConnectionBalancer:
    """The parent's side: accept on ``listener`` and hand each connection over."""

    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.listener.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, None)
        self.workers: dict[int, _Worker] = {}

    def add_worker(self, pid: int, channel: socket.socket) -> None:
        self.workers[pid] = _Worker(channel)
        self.selector.register(channel, selectors.EVENT_READ, pid)

    def remove_worker(self, pid: int) -> None:
        worker = self.workers.pop(pid, None)
        if worker is not None:
            self.selector.unregister(worker.channel)
            worker.channel.close()

    def channels(self) -> list[socket.socket]:
        """Every worker's channel (a new worker closes its inherited copies)."""
        return [worker.channel for worker in self.workers.values()]

    def open_connections(self) -> dict[int, int]:
        """Open connections by worker pid, as the workers have reported them."""
        return {pid: worker.open for pid, worker in self.workers.items()}

    def stop_accepting(self) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(self.listener)
        self.listener.close()

    def wait(self, timeout: float) -> None:
        """Accept, hand over and count closes for up to ``timeout`` seconds."""
        for key, _events in self.selector.select(timeout):
            if key.data is None:
                self._accept()
            else:
                self._count_closes(key.data)

    def _accept(self) -> None:
        for _ in range(ACCEPTS_PER_WAKE):
            try:
                connection, _address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # e.g. out of file descriptors: try again next wake
                log.warning("accepting a connection failed: %s", error)
                return
            with connection:
                self._hand_over(connection)

    def _hand_over(self, connection: socket.socket) -> None:
        while self.workers:
            pid = min(self.workers, key=lambda p: (self.workers[p].open, self.workers[p].handed))
            worker = self.workers[pid]
            try:
                _send_connection(worker.channel, connection)
            except OSError as error:  # the worker died or hangs: the next one takes it
                log.warning("worker %s did not take a connection: %s", pid, error)
                self.remove_worker(pid)
                continue
            worker.open += 1
            worker.handed += 1
            return
        # no worker at all (all restarting): the client sees the connection close

    def _count_closes(self, pid: int) -> None:
        worker = self.workers.get(pid)
        if worker is None:
            return
        while True:
            try:
                report = worker.channel.recv(64)
            except OSError:  # BlockingIOError: nothing more to read
                return
            worker.open = max(0, worker.open - report.count(CLOSED))


def _send_connection(channel: socket.socket, connection: socket.socket) -> None:
    """Pass ``connection`` over ``channel``, waiting up to the hand-over timeout for room
    in the worker's queue (a worker that stays full for that long is taken as hung)."""
    deadline = time.monotonic() + HAND_OVER_TIMEOUT_SECONDS
    while True:
        try:
            socket.send_fds(channel, [b"c"], [connection.fileno()])
            return
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [channel], [], left)[1]:
                raise TimeoutError("the worker's queue stayed full") from None
