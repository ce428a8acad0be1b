"""Ingest runs: stream source records into the store in committed batches.

Each batch is one transaction, so a run killed at any point leaves every paper
either fully stored or absent; re-running the same sources finishes the work and
counts what was already there as unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paperfeed.ingest import IngestError, read_source
from paperfeed.models import Paper, Rejection
from paperfeed.progress import progress_bar
from paperfeed.store.database import Store, UpsertCounts


class StrictIngestError(ValueError):
    """``--strict`` was asked for and a record was rejected."""

    def __init__(self, rejection: Rejection, summary: IngestSummary) -> None:
        super().__init__(f"rejected record, stopping (--strict): {rejection}")
        self.rejection = rejection
        self.summary = summary


@dataclass
class IngestSummary:
    """What an ingest run did; ``rejections`` keeps every rejected record."""

    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def added(self) -> int:
        return self.counts.added

    @property
    def updated(self) -> int:
        return self.counts.updated

    @property
    def unchanged(self) -> int:
        return self.counts.unchanged

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def changed(self) -> bool:
        return self.added > 0 or self.updated > 0


def ingest_sources(
    store: Store,
    sources: Sequence[Path],
    format: str | None = None,
    strict: bool = False,
    batch_size: int = 1000,
    show_progress: bool = True,
    on_rejection: Callable[[Rejection], None] | None = None,
) -> IngestSummary:
    """Read every source and upsert its papers.

    Args:
        store: where the papers go.
        sources: files or folders, each read with ``format`` or its detected format.
        format: force one of ``paperfeed.ingest.FORMATS``.
        strict: stop at the first rejected record (after storing the records before it).
        batch_size: records per transaction.
        show_progress: draw a progress bar on stderr.
        on_rejection: called for each rejected record as it is found.

    Returns:
        Counts of added, updated, unchanged and rejected records.

    Raises:
        StrictIngestError: ``strict`` and a record was rejected.
        paperfeed.ingest.IngestError: a source cannot be read at all.
    """
    summary = IngestSummary()
    pending: list[Paper] = []
    # read_source checks each path and format now, so a missing second file fails
    # before the first one is half-loaded
    readers = [read_source(Path(source), format) for source in sources]
    progress = progress_bar("ingest", unit=" records", enabled=show_progress)

    def flush() -> None:
        if pending:
            summary.counts.add(store.upsert_papers(pending))
            pending.clear()
            progress.set_postfix(
                added=summary.added, updated=summary.updated, rejected=summary.rejected
            )

    try:
        for reader in readers:
            for record in reader:
                progress.update(1)
                if isinstance(record, Rejection):
                    summary.rejections.append(record)
                    if on_rejection is not None:
                        on_rejection(record)
                    if strict:
                        flush()
                        raise StrictIngestError(record, summary)
                    continue
                pending.append(record)
                if len(pending) >= batch_size:
                    flush()
        flush()
    except IngestError as error:
        # a source that breaks off (a truncated .gz): the batches committed before it
        # stay, the records read since are dropped; say exactly which
        raise IngestError(f"{error}; {_stored_before(summary)}") from error
    finally:
        progress.close()
    return summary


def _stored_before(summary: IngestSummary) -> str:
    if not (summary.added or summary.updated or summary.unchanged):
        return "nothing was stored"
    return (
        f"stored before it: added {summary.added}, updated {summary.updated}, "
        f"unchanged {summary.unchanged}; the records after the last batch were not stored"
    )
