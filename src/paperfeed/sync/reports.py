"""What a sync of one source did, the dates it works on, and the errors it raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from paperfeed.calendar_dates import calendar_date
from paperfeed.ingest.errors import IngestError
from paperfeed.ingest.fetching import UnresolvableHost
from paperfeed.models import Rejection
from paperfeed.store import UpsertCounts

# Without --from and without a previous harvest, a source starts this many days back.
FIRST_RUN_DAYS = 7


class SyncError(ValueError):
    """A sync was asked for something impossible (a bad date, an unknown category);
    nothing was fetched or written. The message names the value."""


@dataclass
class SourceReport:
    """What syncing one source did."""

    source: str
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejections: list[Rejection] = field(default_factory=list)
    withdrawn: int = 0
    skipped: int = 0  # harvested but outside the followed categories
    requests: int = 0
    window: str = ""  # "2026-11-24..2026-12-01"
    seconds: float = 0.0
    error: str | None = None  # why it failed; what was stored before stays stored

    @property
    def changed(self) -> bool:
        return self.counts.added > 0 or self.counts.updated > 0 or self.withdrawn > 0

    def summary(self) -> str:
        """``added N, updated N, unchanged N, rejected N`` plus what else happened."""
        counts = self.counts
        text = (
            f"added {counts.added:,}, updated {counts.updated:,}, "
            f"unchanged {counts.unchanged:,}, rejected {len(self.rejections):,}"
        )
        extra = []
        if self.withdrawn:
            extra.append(f"{self.withdrawn:,} marked withdrawn")
        if self.skipped:
            extra.append(f"{self.skipped:,} outside the followed categories skipped")
        if extra:
            text += f" ({'; '.join(extra)})"
        return text


def today_utc() -> date:
    return datetime.now(UTC).date()


def parse_day(option: str, value: str | None, today: date) -> date | None:
    """A ``YYYY-MM-DD`` option value, refusing malformed dates and future ones.

    Raises:
        SyncError: the value is not a date, or it is after ``today``.
    """
    if value is None:
        return None
    day = calendar_date(value)  # exactly YYYY-MM-DD (fromisoformat also reads 20260821)
    if day is None:
        raise SyncError(f"{option} {value!r} is not a date (expected YYYY-MM-DD)")
    if day > today:
        raise SyncError(
            f"{option} {value} is in the future (today is {today.isoformat()} UTC): "
            "there is nothing to fetch yet"
        )
    return day


def check_window(first: date | None, last: date | None) -> None:
    """Raise ``SyncError`` when the window ends before it starts."""
    if first is not None and last is not None and last < first:
        raise SyncError(f"--until {last} is before --from {first}")


def first_run_start(today: date) -> date:
    return today - timedelta(days=FIRST_RUN_DAYS - 1)


def prefixed(
    on_progress: Callable[[str], None] | None, prefix: str
) -> Callable[[str], None] | None:
    """``on_progress`` with ``prefix`` put before each message (None stays None)."""
    if on_progress is None:
        return None
    report = on_progress
    return lambda message: report(prefix + message)


def describe_failure(error: IngestError, setting: str) -> str:
    """The error's message; a host that does not resolve gets a hint naming ``setting``."""
    if isinstance(error, UnresolvableHost):
        return (
            f"{error}: offline? Check the network, or set {setting}= to a server this "
            "machine can reach (empty turns this source off)"
        )
    return str(error)
