"""What the OpenAPI document says about parameters, so a schema-valid request is one the
server accepts (checked by the schemathesis tier). Validation itself stays in the
library, whose messages name the parameter and the value."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from starlette.convertors import Convertor, register_url_convertor

from paperfeed.search.query import CATEGORY_NAME

_YEAR = r"(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
DAY_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
WEEK_PATTERN = rf"^{_YEAR}-W(0[1-9]|[1-4][0-9]|5[0-3])$"
MONTH_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])$"
# A day the calendar has, without lookarounds (schemathesis generates from the pattern):
# any month's 1-28th, the 29th and 30th but of February, the 31st of seven months, and
# 29 February of a leap year (divisible by 4; of the centuries, those divisible by 400).
_MONTH_DAY = (
    r"((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
)
_FOURTH = r"(0[48]|[2468][048]|[13579][26])"  # 04, 08, ... 96: two digits divisible by 4
_LEAP_YEAR = rf"([0-9]{{2}}{_FOURTH}|{_FOURTH}00)"
# what search/query.py's date bounds accept: any year, a year's month (01-12), or a day
# the calendar has (search.query rejects 2025-02-30 with a 400 naming it)
BOUND_PATTERN = rf"^[0-9]{{4}}(-(0[1-9]|1[0-2]))?$|^{_YEAR}-{_MONTH_DAY}$|^{_LEAP_YEAR}-02-29$"
# an arXiv id as a path segment: new or old style, optional arXiv: prefix and version
ARXIV_ID_REGEX = (
    r"(?:[Aa][Rr][Xx][Ii][Vv]:)?"
    r"(?:[0-9]{4}\.[0-9]{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]+(?:-[A-Za-z]+)*)?/[0-9]{7}"
    # a bioRxiv/medRxiv DOI (10.1101/2024.01.02.123456, older 10.1101/123456)
    r"|10\.1101/[0-9]+(?:\.[0-9]+)*)"
    r"(?:v[0-9]+)?"
)
ARXIV_ID_PATTERN = f"^{ARXIV_ID_REGEX}$"


def day_schema() -> dict[str, Any]:
    return {"format": "date"}


def week_schema() -> dict[str, Any]:
    return {"pattern": WEEK_PATTERN}


def month_schema() -> dict[str, Any]:
    return {"pattern": MONTH_PATTERN}


def bound_schema() -> dict[str, Any]:
    return {"pattern": BOUND_PATTERN}


def category_schema() -> dict[str, Any]:
    """One ``cat`` value: empty (no filter) or category names separated by spaces or
    commas, as ``ParsedQuery.with_filters`` reads it (one rule, defined there)."""
    name = f"(?:{CATEGORY_NAME})"
    return {"type": "string", "pattern": rf"^[\s,]*(?:{name}(?:[\s,]+{name})*[\s,]*)?$"}


def time_zone_schema() -> dict[str, Any]:
    return {"enum": sorted(available_timezones())}


class ArxivIdConvertor(Convertor[str]):
    """``{id:arxiv}`` in a route: only an arXiv id matches, so ``/api/papers/0`` is a
    plain 404 and ``GET /api/papers/<id>/upvote`` a 405 naming POST and DELETE."""

    regex = ARXIV_ID_REGEX

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("arxiv", ArxivIdConvertor())
