"""Schemathesis hooks for tests/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS).

OpenAPI cannot say "at most one of these query parameters": the daily list takes one
of ``date``, ``week`` or ``month`` and answers two of them with a 400 naming both. So a
generated request giving more than one is sent with the first of them only (in every
phase); everything else is sent as generated.

Nor can it say "since no later than until": a search's ``since`` after its ``until`` is a
400 naming both, so such a request is sent without its ``until``.

A ``cursor`` of ``GET /api/papers`` is one the server signed (the ``Link`` of a previous
page): any other is refused with a 400 naming it, so a generated one is not sent.
"""

from __future__ import annotations

from typing import Any

import schemathesis

_PERIODS = ("date", "week", "month")


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    query = case.query
    if not isinstance(query, dict):
        return
    if case.path == "/api/papers":
        query.pop("cursor", None)
    since, until = query.get("since"), query.get("until")
    if isinstance(since, str) and isinstance(until, str) and since.strip() and until.strip():
        # YYYY, YYYY-MM and YYYY-MM-DD as the first and the last day they cover
        first = since + "-01-01"[len(since) - 4 :] if len(since) < 10 else since
        last = until + "-12-31"[len(until) - 4 :] if len(until) < 10 else until
        if first > last:
            del query["until"]
    given = [name for name in _PERIODS if query.get(name) is not None]
    for name in given[1:]:
        del query[name]
