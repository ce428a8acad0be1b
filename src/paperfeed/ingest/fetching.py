"""Polite HTTP GETs for the harvesters: a pause between requests, bounded retries.

A ``503`` with ``Retry-After`` (OAI-PMH's flow control, §3.5 of the spec; arXiv uses
it) waits as long as the server asks, up to ``MAX_RETRY_AFTER_SECONDS``. Other 5xx
answers, timeouts, refused connections and cut-off bodies wait ``backoff``, doubling
each time (exponential backoff), for at most ``retries`` retries. A 4xx answer is not
retried: asking again would get the same answer. Every failure names the URL.
"""

from __future__ import annotations

import email.utils
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from paperfeed import __version__
from paperfeed.ingest.errors import IngestError

MAX_RETRY_AFTER_SECONDS = 600.0
LARGEST_RESPONSE = 200 * 1024 * 1024  # an arXiv page is a few MB


class FetchError(IngestError):
    """A URL could not be fetched; the message names it and what went wrong."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"cannot fetch {url}: {problem}")
        self.url = url
        self.problem = problem


@dataclass
class FetchPolicy:
    """How patiently to ask.

    Attributes:
        delay: seconds between the start of two requests (arXiv asks for a few).
        timeout: seconds to connect and for each read.
        retries: retries after the first failure (timeouts, 5xx, 503).
        backoff: seconds before the first retry; doubled for each next one.
        user_agent: names the project, as arXiv asks harvesters to.
    """

    delay: float = 3.0
    timeout: float = 60.0
    retries: int = 4
    backoff: float = 10.0
    user_agent: str = f"paperfeed/{__version__} (self-hosted daily-papers feed)"


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


class PoliteClient:
    """GETs URLs one at a time under a ``FetchPolicy``."""

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
        self.requests = 0

    def get(self, url: str, accept: str = "*/*") -> tuple[bytes, str]:
        """The body and Content-Type of ``url``, retrying as the policy allows.

        Raises:
            FetchError: a 4xx answer, or still failing after every retry.
        """
        attempt = 0
        while True:
            self._pause()
            try:
                return self._get_once(url, accept)
            except _Retryable as failure:
                if attempt >= self.policy.retries:
                    tries = attempt + 1
                    raise FetchError(
                        url, f"{failure.problem} ({tries} attempt{'s' if tries > 1 else ''})"
                    ) from None
                wait = failure.wait
                if wait is None:
                    wait = self.policy.backoff * 2**attempt
                elif wait > MAX_RETRY_AFTER_SECONDS:
                    raise FetchError(
                        url, f"{failure.problem}; the server asks to retry after {wait:g} s"
                    ) from None
                attempt += 1
                if self._on_wait is not None:
                    self._on_wait(f"{url}: {failure.problem}; retrying in {wait:g} s")
                self._sleep(wait)

    def _pause(self) -> None:
        if self._last_request is not None:
            remaining = self.policy.delay - (time.monotonic() - self._last_request)
            if remaining > 0:
                self._sleep(remaining)
        self._last_request = time.monotonic()

    def _get_once(self, url: str, accept: str) -> tuple[bytes, str]:
        self.requests += 1
        request = urllib.request.Request(
            url, headers={"User-Agent": self.policy.user_agent, "Accept": accept}
        )
        timeout = self.policy.timeout
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body: bytes = response.read(LARGEST_RESPONSE + 1)
                content_type = response.headers.get("Content-Type", "")
                length = response.headers.get("Content-Length", "")
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code} {error.reason}"
            if error.code == 503:
                raise _Retryable(problem, _retry_after(error.headers.get("Retry-After"))) from None
            if error.code >= 500 or error.code == 429:
                raise _Retryable(problem, _retry_after(error.headers.get("Retry-After"))) from None
            raise FetchError(url, problem) from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, TimeoutError):
                raise _Retryable(f"no answer within {timeout:g} s") from None
            raise _Retryable(str(reason)) from None
        except TimeoutError:
            raise _Retryable(f"no answer within {timeout:g} s") from None
        except http.client.IncompleteRead as error:
            raise _Retryable(f"the response was cut off after {len(error.partial)} bytes") from None
        except (OSError, http.client.HTTPException) as error:
            raise _Retryable(str(error) or type(error).__name__) from None
        if length.isdigit() and len(body) < int(length):
            # read(amount) returns what came before the connection closed, without raising
            raise _Retryable(f"the response was cut off after {len(body)} of {length} bytes")
        if len(body) > LARGEST_RESPONSE:
            raise FetchError(url, f"response larger than {LARGEST_RESPONSE} bytes")
        return body, content_type
