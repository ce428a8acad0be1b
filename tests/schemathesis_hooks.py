"""Schemathesis hooks for tests/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS).

OpenAPI cannot say "at most one of these query parameters": the daily list takes one
of ``date``, ``week`` or ``month`` and answers two of them with a 400 naming both. So a
generated request giving more than one is sent with the first of them only (in every
phase); everything else is sent as generated.

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
    given = [name for name in _PERIODS if query.get(name) is not None]
    for name in given[1:]:
        del query[name]
