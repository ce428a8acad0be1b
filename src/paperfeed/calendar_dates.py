"""The one reading of a ``YYYY-MM-DD`` day: what ingest accepts and what the site reads back;
and the one writing of a stored moment (epoch seconds) in an API answer.

Two traps make this more than ``date.fromisoformat``: the shape ``[0-9]{4}-[0-9]{2}-
[0-9]{2}`` says nothing of the calendar (``2026-02-30``, ``2026-13-45``), and Python
3.11's ``fromisoformat`` reads more than that shape (``2026-W34-5``, ``20260821``), as
``\\d`` matches digits of any script (``２０２６``). A day is both: that exact shape in
ASCII digits, and a day the calendar has. Imports nothing of ours, so every layer may
use it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def calendar_date(text: str) -> date | None:
    """The day ``text`` names as exactly ``YYYY-MM-DD``, or None when it names none.

    Args:
        text: e.g. ``2026-08-21``; ``2026-02-30``, ``2026-8-21`` and ``20260821`` are None.
    """
    if _DAY.fullmatch(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # month 13, day 45, 30 February, year 0
        return None


def is_calendar_date(text: str) -> bool:
    """Whether ``text`` is exactly ``YYYY-MM-DD`` and a day the calendar has."""
    return calendar_date(text) is not None


def iso_moment(moment: float | None) -> str | None:
    """A stored moment (epoch seconds) as the API writes it: ISO 8601 in UTC with its
    offset, e.g. ``2026-12-07T13:05:45.123456+00:00``; None stays None."""
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()
