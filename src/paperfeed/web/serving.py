"""Running the site: one listening socket, N forked uvicorn worker processes.

Pre-forking rather than ``uvicorn --workers``: uvicorn hands its workers the socket in
a way that leaves Nagle's algorithm on for their connections (asyncio only sets
TCP_NODELAY on sockets it knows are TCP), and every keep-alive response then waits
~40 ms for the client's delayed ACK. Here the listening socket gets TCP_NODELAY, which
accepted connections inherit. One worker listens on it itself; with more, this (parent)
process accepts and hands each connection to the worker holding the fewest
(:mod:`paperfeed.web.connection_balancer`): a shared socket let whichever worker woke
first take it (16 of 16 keep-alive connections on one worker, seen), and SO_REUSEPORT's
hash split 16 as 12 and 4. Each worker builds its own app (store, index, model) after the
fork (:mod:`paperfeed.web.worker_server`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from types import FrameType

import uvicorn

from paperfeed.web.connection_balancer import ConnectionBalancer, channel_pair
from paperfeed.web.worker_server import WorkerServer

log = logging.getLogger("paperfeed.web")
APP_FACTORY = "paperfeed.web.app:create_app"
RESTART_PAUSE_SECONDS = 1.0
# uvicorn would rewrite the client address from X-Forwarded-For for any peer on
# loopback (its default forwarded_allow_ips), so a client on this machine, or behind a
# proxy that passes the header through, could pick any address for the rate limits.
# The site reads the header itself, only from PAPERFEED_TRUSTED_PROXIES
# (``security.client_address``).
UVICORN_OPTIONS: dict[str, object] = {"proxy_headers": False, "server_header": False}
WAKE_SECONDS = 0.5  # how often the parent looks for workers that exited


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket with TCP_NODELAY (inherited by accepted sockets)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _worker_config() -> uvicorn.Config:
    from paperfeed.config import Settings

    settings = Settings.from_environment()
    return uvicorn.Config(
        APP_FACTORY,
        factory=True,
        log_level="warning",
        access_log=False,
        lifespan="on",
        loop=settings.server_loop,
        http=settings.server_http,
        **UVICORN_OPTIONS,  # type: ignore[arg-type]
    )


def _start_worker(listener: socket.socket, balancer: ConnectionBalancer | None) -> int:
    """Fork a worker: it serves ``listener`` itself, or takes connections from ``balancer``."""
    channel = channel_pair() if balancer is not None else None
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            if balancer is None or channel is None:
                WorkerServer(_worker_config()).run(sockets=[listener])
            else:
                parent_end, worker_end = channel
                # the parent's sockets: the listener and the workers' channels
                for inherited in (listener, parent_end, *balancer.channels()):
                    inherited.close()
                WorkerServer(_worker_config(), worker_end).run()
        except BaseException:  # noqa: BLE001 - report, then leave without the parent's atexit
            log.exception("worker %s failed", os.getpid())
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    if balancer is not None and channel is not None:
        parent_end, worker_end = channel
        worker_end.close()
        balancer.add_worker(pid, parent_end)
    return pid


def default_base_url(host: str, port: int) -> tuple[str, str | None]:
    """The base URL links use when ``PAPERFEED_BASE_URL`` is unset: the serving address.

    Returns:
        The URL, and a warning to show when it is only a guess (a wildcard address).
    """
    if host in ("0.0.0.0", "::", ""):
        shown = f"http://127.0.0.1:{port}"
        return shown, (
            f"links in mails and feeds say {shown} (listening on all addresses): set "
            "PAPERFEED_BASE_URL to the address visitors use"
        )
    name = f"[{host}]" if ":" in host else host
    return f"http://{name}:{port}", None


def serve_forever(
    host: str, port: int, workers: int, after_start: Callable[[], None] | None = None
) -> None:
    """Serve until SIGINT or SIGTERM; a worker that dies is replaced.

    Args:
        after_start: run in this (parent) process once the workers are forked, e.g.
            the digest scheduler: one of it, however many workers.
    """
    # bound here, so a port in use fails in this process, readably
    listener = listening_socket(host, port)
    balancer = ConnectionBalancer(listener) if workers > 1 else None
    children = {_start_worker(listener, balancer) for _ in range(workers)}
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    if after_start is not None:
        after_start()
    while children:
        if balancer is not None and not stopping:
            balancer.wait(WAKE_SECONDS)
        else:
            time.sleep(WAKE_SECONDS / 5 if stopping else WAKE_SECONDS)
        for pid in _exited_children():
            children.discard(pid)
            if balancer is not None:
                balancer.remove_worker(pid)
            if not stopping:
                log.warning("worker %s exited; starting another", pid)
                time.sleep(RESTART_PAUSE_SECONDS)
                children.add(_start_worker(listener, balancer))
    if balancer is not None:
        balancer.stop_accepting()
    else:
        listener.close()


def _exited_children() -> list[int]:
    """The pids of worker processes that have exited since the last call (reaped)."""
    exited: list[int] = []
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return exited
        except InterruptedError:
            continue
        if pid == 0:
            return exited
        exited.append(pid)
