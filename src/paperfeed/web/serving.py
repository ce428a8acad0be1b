"""Running the site: one listening socket, N forked uvicorn worker processes.

Pre-forking rather than ``uvicorn --workers``: uvicorn hands its workers the socket in
a way that leaves Nagle's algorithm on for their connections (asyncio only sets
TCP_NODELAY on sockets it knows are TCP), and every keep-alive response then waits
~40 ms for the client's delayed ACK. Here each listening socket gets TCP_NODELAY, which
accepted connections inherit. Where the system has SO_REUSEPORT (Linux), each worker
listens on its own socket and the kernel spreads new connections over them; with one
shared socket, whichever worker wakes first takes the connection, and long keep-alive
connections piled up on one worker (16 of 16 seen). Each worker builds its own app
(store, index, model) after the fork.
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

log = logging.getLogger("paperfeed.web")
APP_FACTORY = "paperfeed.web.app:create_app"
RESTART_PAUSE_SECONDS = 1.0
# uvicorn would rewrite the client address from X-Forwarded-For for any peer on
# loopback (its default forwarded_allow_ips), so a client on this machine, or behind a
# proxy that passes the header through, could pick any address for the rate limits.
# The site reads the header itself, only from PAPERFEED_TRUSTED_PROXIES
# (``security.client_address``).
UVICORN_OPTIONS: dict[str, object] = {"proxy_headers": False, "server_header": False}


REUSE_PORT = hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A bound, listening TCP socket with TCP_NODELAY (inherited by accepted sockets)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048, reuse_port=reuse_port)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _run_worker(sock: socket.socket) -> None:
    from paperfeed.config import Settings

    settings = Settings.from_environment()
    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        log_level="warning",
        access_log=False,
        lifespan="on",
        loop=settings.server_loop,
        http=settings.server_http,
        **UVICORN_OPTIONS,  # type: ignore[arg-type]
    )
    uvicorn.Server(config).run(sockets=[sock])


def _start_worker(host: str, port: int, shared: socket.socket | None) -> int:
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            _run_worker(shared or listening_socket(host, port, reuse_port=True))
        except BaseException:  # noqa: BLE001 - report, then leave without the parent's atexit
            log.exception("worker %s failed", os.getpid())
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
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
    # bound here first either way, so a port in use fails in this process, readably
    sock = listening_socket(host, port, reuse_port=REUSE_PORT)
    shared = None if REUSE_PORT else sock
    if REUSE_PORT:
        sock.close()  # workers open their own; an idle listener here would hold connections
    children = {_start_worker(host, port, shared) for _ in range(workers)}
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
        try:
            pid, _status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        if not stopping:
            log.warning("worker %s exited; starting another", pid)
            time.sleep(RESTART_PAUSE_SECONDS)
            children.add(_start_worker(host, port, shared))
    if shared is not None:
        shared.close()
