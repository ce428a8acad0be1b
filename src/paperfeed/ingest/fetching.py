"""Polite HTTP GETs for the harvesters: a pause between requests, bounded retries, budgets.

A ``503`` with ``Retry-After`` (OAI-PMH's flow control, §3.5 of the spec; arXiv uses
it) waits as long as the server asks, up to ``FetchPolicy.max_retry_after`` (a longer
wait stops the source: "try again later") and never past the run's budget. Other 5xx
answers, timeouts, refused connections and cut-off bodies wait ``backoff``, doubling
each time (exponential backoff), for at most ``retries`` retries. A 4xx answer is not
retried: asking again would get the same answer; nor is a host name that does not
resolve (offline, or a typo in the URL), nor a redirect to another host.

Every request has a total deadline (``timeout``: connecting, the headers and the whole
body, see ``request_deadline``), and a client, one per source run, a budget: at most
``max_requests`` requests and ``budget_seconds`` of wall time, waits included. Every
failure names the URL.
"""

from __future__ import annotations

import email.utils
import http.client
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from paperfeed import __version__
from paperfeed.ingest.errors import IngestError
from paperfeed.ingest.request_deadline import Deadline, RedirectRefused, open_with_deadline

# The longest Retry-After a run sleeps through; arXiv asks for seconds, not minutes.
MAX_RETRY_AFTER_SECONDS = 120.0
LARGEST_RESPONSE = 200 * 1024 * 1024  # an arXiv page is a few MB
_READ_SIZE = 1 << 16


class FetchError(IngestError):
    """A URL could not be fetched; the message names it and what went wrong."""

    def __init__(self, url: str, problem: str, status: int | None = None) -> None:
        super().__init__(f"cannot fetch {url}: {problem}")
        self.url = url
        self.problem = problem
        self.status = status  # the HTTP status of a 4xx answer, else None


class UnresolvableHost(FetchError):
    """The URL's host name does not resolve: offline, or a wrong address. Not retried."""

    def __init__(self, url: str, host: str, problem: str) -> None:
        super().__init__(url, f"cannot resolve {host} ({problem})")
        self.host = host


@dataclass
class FetchPolicy:
    """How patiently to ask.

    Attributes:
        delay: seconds between the start of two requests (arXiv asks for a few).
        timeout: seconds one request may take in all: connecting, headers and body.
        retries: retries after the first failure (timeouts, 5xx, 503).
        backoff: seconds before the first retry; doubled for each next one.
        user_agent: names the project, as arXiv asks harvesters to.
        budget_seconds: wall time one client may spend, waits included (None: no cap).
        max_requests: requests one client may make, retries included (None: no cap).
        max_retry_after: the longest ``Retry-After`` obeyed; a longer one stops.
    """

    delay: float = 3.0
    timeout: float = 60.0
    retries: int = 4
    backoff: float = 10.0
    user_agent: str = f"paperfeed/{__version__} (self-hosted daily-papers feed)"
    budget_seconds: float | None = None
    max_requests: int | None = None
    max_retry_after: float = MAX_RETRY_AFTER_SECONDS


class _Retryable(Exception):
    def __init__(self, problem: str, wait: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.wait = wait


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class PoliteClient:
    """GETs URLs one at a time under a ``FetchPolicy``; its budget starts when it is made.

    Args:
        policy: delays, deadline, retries and budget.
        sleep: how to wait (tests pass a fake).
        on_wait: told about every wait longer than the polite delay (a retry, a
            ``Retry-After``), so a person watching sees why nothing happens.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.policy = policy
        self._sleep = sleep
        self._on_wait = on_wait
        self._last_request: float | None = None
        self._started = time.monotonic()
        self.requests = 0

    def remaining_seconds(self) -> float | None:
        """Seconds left of the time budget (None: no time budget)."""
        if self.policy.budget_seconds is None:
            return None
        return self.policy.budget_seconds - (time.monotonic() - self._started)

    def get(self, url: str, accept: str = "*/*") -> tuple[bytes, str]:
        """The body and Content-Type of ``url``, retrying as the policy allows.

        Raises:
            FetchError: a 4xx answer, an unresolvable host, a refused redirect, the
                budget spent, or still failing after every retry.
        """
        attempt = 0
        while True:
            self._check_budget(url)
            self._pause()
            try:
                return self._get_once(url, accept)
            except _Retryable as failure:
                if attempt >= self.policy.retries:
                    raise FetchError(
                        url, f"{failure.problem} ({_plural(attempt + 1, 'attempt')})"
                    ) from None
                wait = self._wait_before_retry(url, failure, attempt)
                attempt += 1
                if self._on_wait is not None:
                    self._on_wait(
                        f"{url}: {failure.problem}; retry {attempt} of {self.policy.retries} "
                        f"in {wait:g} s"
                    )
                self._sleep(wait)

    def _wait_before_retry(self, url: str, failure: _Retryable, attempt: int) -> float:
        wait = failure.wait
        if wait is None:
            wait = self.policy.backoff * 2**attempt
        elif wait > self.policy.max_retry_after:
            raise FetchError(
                url,
                f"{failure.problem}; the server asks to retry after {wait:g} s, longer than "
                f"the {self.policy.max_retry_after:g} s a sync waits: try again later",
            ) from None
        remaining = self.remaining_seconds()
        if remaining is not None and wait >= remaining:
            raise FetchError(
                url,
                f"{failure.problem}; a retry in {wait:g} s would pass this run's time budget "
                f"({max(0.0, remaining):.0f} s left, PAPERFEED_SYNC_BUDGET_MINUTES): "
                "try again later",
            ) from None
        return wait

    def _check_budget(self, url: str) -> None:
        limit = self.policy.max_requests
        if limit is not None and self.requests >= limit:
            raise FetchError(
                url,
                f"this run's budget of {_plural(limit, 'request')} is spent "
                "(PAPERFEED_SYNC_MAX_REQUESTS); what was fetched is stored, run the sync "
                "again to carry on",
            )
        remaining = self.remaining_seconds()
        if remaining is not None and remaining <= 0:
            raise FetchError(
                url,
                f"this run's time budget of {self.policy.budget_seconds or 0:g} s is spent "
                "(PAPERFEED_SYNC_BUDGET_MINUTES); what was fetched is stored, run the sync "
                "again to carry on",
            )

    def _pause(self) -> None:
        if self._last_request is not None:
            remaining = self.policy.delay - (time.monotonic() - self._last_request)
            if remaining > 0:
                self._sleep(remaining)
        self._last_request = time.monotonic()

    def _deadline_seconds(self) -> float:
        remaining = self.remaining_seconds()
        if remaining is None:
            return self.policy.timeout
        return max(0.001, min(self.policy.timeout, remaining))

    def _get_once(self, url: str, accept: str) -> tuple[bytes, str]:
        self.requests += 1
        request = urllib.request.Request(
            url, headers={"User-Agent": self.policy.user_agent, "Accept": accept}
        )
        deadline = Deadline(self._deadline_seconds())
        too_slow = f"no answer within {deadline.seconds:g} s"  # connected or not, body and all
        deadline.start()
        try:
            with open_with_deadline(request, deadline) as response:
                body = _read_body(response)
                content_type = response.headers.get("Content-Type", "")
                length = response.headers.get("Content-Length", "")
        except RedirectRefused as error:
            raise FetchError(url, str(error.reason)) from None
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code} {error.reason}"
            if error.code >= 500 or error.code == 429:
                raise _Retryable(problem, _retry_after(error.headers.get("Retry-After"))) from None
            raise FetchError(url, problem, error.code) from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, socket.gaierror):
                host = urllib.parse.urlsplit(url).hostname or url
                raise UnresolvableHost(url, host, reason.strerror or str(reason)) from None
            if deadline.expired or isinstance(reason, TimeoutError):
                raise _Retryable(too_slow) from None
            raise _Retryable(str(reason)) from None
        except (OSError, http.client.HTTPException) as error:
            if deadline.expired or isinstance(error, TimeoutError):
                raise _Retryable(too_slow) from None
            if isinstance(error, http.client.IncompleteRead):
                raise _Retryable(
                    f"the response was cut off after {len(error.partial)} bytes"
                ) from None
            raise _Retryable(str(error) or type(error).__name__) from None
        finally:
            deadline.cancel()
        if deadline.expired:
            raise _Retryable(too_slow)
        if length.isdigit() and len(body) < int(length):
            # read(amount) returns what came before the connection closed, without raising
            raise _Retryable(f"the response was cut off after {len(body)} of {length} bytes")
        if len(body) > LARGEST_RESPONSE:
            raise FetchError(url, f"response larger than {LARGEST_RESPONSE} bytes")
        return body, content_type


def _read_body(response: http.client.HTTPResponse) -> bytes:
    """Up to ``LARGEST_RESPONSE + 1`` bytes, in chunks, so a shut-down socket ends it."""
    chunks: list[bytes] = []
    size = 0
    while size <= LARGEST_RESPONSE:
        chunk = response.read(min(_READ_SIZE, LARGEST_RESPONSE + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
