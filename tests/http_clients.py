"""HTTP clients for the tests: every test talks plain HTTP to a server on loopback.

``httpx.Client()`` builds a TLS context and loads the CA bundle into it each time: ~50 ms
of CPU a client on the 2-core test machine, several hundred clients a run. These share one
context, made once; nothing here ever speaks TLS.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

import httpx


@cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


# httpx's default is 5 s. A full run shares 2 cores among 3 test workers and the servers
# they start: one GET /forgot-password once took 5.7 s there, and the test failed on a
# timeout, not on what it checks. A server that truly hangs still fails the test.
TIMEOUT_SECONDS = 30.0


def http_client(**options: Any) -> httpx.Client:
    """``httpx.Client(**options)`` with the shared TLS context (unless ``verify`` is given)
    and a 30 s timeout (unless ``timeout`` is)."""
    return httpx.Client(**{"verify": _tls_context(), "timeout": TIMEOUT_SECONDS, **options})


def http_get(url: str, **options: Any) -> httpx.Response:
    """``httpx.get(url, **options)`` with the shared TLS context."""
    with http_client() as client:
        return client.get(url, **options)
