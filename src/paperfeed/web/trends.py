"""Topic trends as JSON: ``GET /api/papers/search/trend`` (the search page draws the same)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from paperfeed.search import SearchError
from paperfeed.search.trends import monthly_trend
from paperfeed.web.api import CATEGORIES, SINCE, UNTIL, refuse_empty_bounds
from paperfeed.web.security import engine_of

api_router = APIRouter(prefix="/api", tags=["api"])
# what the document's pattern for ``q`` says: something to count, not only exclusions
_COUNTABLE_PATTERN = r"^\s*[^\s\-]"
_COUNTABLE = re.compile(_COUNTABLE_PATTERN)


@api_router.get("/papers/search/trend", summary="Papers per month matching a search")
def search_trend_api(
    request: Request,
    # required, and something to count (words, not only exclusions): what the OpenAPI
    # document says, so a schema-valid request is answered
    q: Annotated[
        str,
        Query(
            description="the query, in the search syntax",
            json_schema_extra={"pattern": _COUNTABLE_PATTERN},
        ),
    ],
    cat: CATEGORIES = None,
    since: SINCE = None,
    until: UNTIL = None,
) -> dict[str, Any]:
    """For every month of the corpus: how many papers contain all the query's words under
    its filters (``count``), and how many papers the corpus has that month (``corpus``)."""
    if not _COUNTABLE.match(q):
        raise HTTPException(
            400, f"parameter 'q': {q!r} has nothing to count (give a word first, e.g. 'agent')"
        )
    refuse_empty_bounds(since, until)
    try:
        trend = monthly_trend(engine_of(request), q, cat or (), since, until)
    except SearchError as error:
        raise HTTPException(400, str(error)) from None
    return {
        "query": trend.query,
        "total": trend.total,
        "undated": trend.undated,
        "notes": list(trend.notes),
        "months": [
            {"month": month.month, "count": month.count, "corpus": month.corpus}
            for month in trend.months
        ],
    }
