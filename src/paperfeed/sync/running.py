"""``paperfeed sync``: every configured source, then the index, each run recorded.

A source is configured when its URL setting is not empty. A failing source does not
stop the others; its failure (with the URL and the reason) is recorded as a failed
run, shown on ``/status`` and in ``paperfeed stats``, and the next sync retries it
from where it stopped. The index update runs after the sources: lexical at once (new
papers are searchable as soon as it ends), then the embeddings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from paperfeed.config import Settings
from paperfeed.index.builder import IndexReport, update_index
from paperfeed.index.embedder import EmbedderError
from paperfeed.index.pgvector_index import PgVectorError
from paperfeed.ingest.arxiv_taxonomy import check_categories, check_sets
from paperfeed.ingest.preprint_categories import check_preprint_categories
from paperfeed.store import Store
from paperfeed.store.sync_runs import finish_run, settle_ended_runs, start_run
from paperfeed.sync import arxiv, arxiv_listing, biorxiv, daily_papers
from paperfeed.sync.reports import SourceReport, SyncError

SOURCES = (arxiv.SOURCE, arxiv_listing.SOURCE, daily_papers.SOURCE, "biorxiv", "medrxiv")
INDEX = "index"
INTERRUPTED = "interrupted (Ctrl+C or SIGTERM) before it finished; the next run carries on"


@dataclass
class SyncReport:
    """What one ``paperfeed sync`` did."""

    sources: list[SourceReport] = field(default_factory=list)
    index: IndexReport | None = None
    index_error: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.index_error is not None or any(source.error for source in self.sources)

    @property
    def changed(self) -> bool:
        return any(source.changed for source in self.sources) or bool(
            self.index and self.index.changed
        )


def configured_sources(settings: Settings) -> list[str]:
    """The sources whose URL is set, in the order they run."""
    found = []
    if settings.arxiv_oai_url:
        found.append(arxiv.SOURCE)
    if settings.arxiv_oai_url and settings.arxiv_rss_url:
        found.append(arxiv_listing.SOURCE)  # after OAI-PMH: the listed papers are stored
    if settings.daily_papers_url:
        found.append(daily_papers.SOURCE)
    if settings.biorxiv_api_url:
        found.extend(settings.biorxiv_servers)
    return found


def check_settings(settings: Settings) -> None:
    """Refuse sync settings that cannot work (``paperfeed serve`` checks before scheduling).

    Raises:
        SyncError: no source configured, or an unknown arXiv set or category.
    """
    if not configured_sources(settings):
        raise SyncError(
            "no source is configured: set PAPERFEED_ARXIV_OAI_URL, PAPERFEED_DAILY_PAPERS_URL "
            "or PAPERFEED_BIORXIV_SERVERS"
        )
    if settings.arxiv_oai_url:
        try:
            check_sets(settings.arxiv_sets, "PAPERFEED_ARXIV_SETS")
            check_categories(settings.arxiv_categories, "PAPERFEED_ARXIV_CATEGORIES")
        except ValueError as error:
            raise SyncError(str(error)) from None
    try:
        check_preprint_categories(settings.biorxiv_categories, "PAPERFEED_BIORXIV_CATEGORIES")
    except ValueError as error:
        raise SyncError(str(error)) from None


def _run_source(
    store: Store,
    settings: Settings,
    source: str,
    first: str | None,
    last: str | None,
    on_progress: Callable[[str], None] | None,
) -> SourceReport:
    if source == arxiv.SOURCE:
        return arxiv.harvest_arxiv(store, settings, first, last, on_progress=on_progress)
    if source == arxiv_listing.SOURCE:
        return arxiv_listing.sync_arxiv_listing(
            store, settings, first, last, on_progress=on_progress
        )
    if source in ("biorxiv", "medrxiv"):
        return biorxiv.harvest_preprints(
            store, settings, source, first, last, on_progress=on_progress
        )
    return daily_papers.sync_daily_papers(store, settings, first, last, on_progress=on_progress)


def _detail(report: SourceReport) -> str:
    text = f"{report.window}: {report.summary()}" if report.window else report.summary()
    return f"{report.error} (after {text})" if report.error else text


def run_sync(
    store: Store,
    settings: Settings,
    sources: Sequence[str] | None = None,
    first: str | None = None,
    last: str | None = None,
    index: bool = True,
    embed: bool = True,
    show_progress: bool = False,
    on_source: Callable[[SourceReport], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> SyncReport:
    """Sync ``sources`` (default: every configured one), then update the index.

    Args:
        sources: names from ``SOURCES``.
        first, last: the window for every source (``YYYY-MM-DD``); default: each
            source's own (since its last run).
        index: update the index afterwards.
        embed: include the embedding stage in that update.
        show_progress: progress bars for the index update.
        on_source: called with each source's report as it finishes.
        on_progress: told about each page or day fetched and each wait (a retry, a
            ``Retry-After``), so a sync that waits says why.

    Raises:
        SyncError: an unknown source, or no source configured.
    """
    chosen = list(sources) if sources else configured_sources(settings)
    for source in chosen:
        if source not in SOURCES:
            raise SyncError(f"unknown source {source!r} (expected one of {', '.join(SOURCES)})")
    if not chosen:
        raise SyncError(
            "no source is configured: set PAPERFEED_ARXIV_OAI_URL, PAPERFEED_DAILY_PAPERS_URL "
            "or PAPERFEED_BIORXIV_SERVERS"
        )
    started = time.monotonic()
    report = SyncReport()
    # the runs of an earlier sync on this host that was killed (kill -9, OOM, power cut)
    # and never recorded its end: failed for good, as they read already
    settle_ended_runs(store)
    for source in chosen:
        run_id = start_run(store, source)
        try:
            result = _run_source(store, settings, source, first, last, on_progress)
        except SyncError as error:
            finish_run(store, run_id, "failed", detail=str(error))
            raise
        except KeyboardInterrupt:  # Ctrl+C: else the run stayed "running" on /status for ever
            finish_run(store, run_id, "failed", detail=INTERRUPTED)
            raise
        except Exception as error:  # recorded, so a failure is never silent; then raised
            finish_run(store, run_id, "failed", detail=f"{type(error).__name__}: {error}")
            raise
        finish_run(
            store,
            run_id,
            "failed" if result.error else "ok",
            result.counts,
            rejected=len(result.rejections),
            withdrawn=result.withdrawn,
            detail=_detail(result),
        )
        report.sources.append(result)
        if on_source is not None:
            on_source(result)
    if index:
        run_id = start_run(store, INDEX)
        try:
            report.index = update_index(store, settings, embed=embed, show_progress=show_progress)
        except (EmbedderError, PgVectorError, OSError) as error:
            # OSError: an index folder that cannot be written (read-only, not a folder)
            report.index_error = str(error)
            finish_run(store, run_id, "failed", detail=str(error))
        except KeyboardInterrupt:
            finish_run(store, run_id, "failed", detail=INTERRUPTED)
            raise
        except Exception as error:  # as for a source: recorded, then raised
            finish_run(store, run_id, "failed", detail=f"{type(error).__name__}: {error}")
            raise
        else:
            finish_run(
                store,
                run_id,
                "ok",
                detail=(
                    f"lexical +{report.index.lexical_added}, embedded {report.index.embedded}; "
                    f"{report.index.vectors} of {report.index.papers} papers have vectors"
                ),
            )
    report.seconds = time.monotonic() - started
    _log_job(report)
    return report


def _log_job(report: SyncReport) -> None:
    """The one log line of a sync run (``paperfeed.operations.logs`` formats it)."""
    outcome = "failed" if report.failed else "ok"
    added = sum(source.counts.added for source in report.sources)
    milliseconds = round(report.seconds * 1000, 1)
    logging.getLogger("paperfeed.job").log(
        logging.WARNING if report.failed else logging.INFO,
        "job sync %s %.1f ms: %d papers added (%s)",
        outcome,
        milliseconds,
        added,
        ", ".join(source.source for source in report.sources),
        extra={
            "event": "job",
            "job": "sync",
            "outcome": outcome,
            "ms": milliseconds,
            "details": {
                "added": added,
                "sources": [source.source for source in report.sources],
                "failed_sources": [source.source for source in report.sources if source.error],
            },
        },
    )


def report_lines(report: SyncReport) -> list[str]:
    """The summary ``paperfeed sync`` prints: one line per source, one for the index."""
    lines = []
    for source in report.sources:
        line = f"{source.source}: {source.summary()} in {source.seconds:.1f} s"
        if source.window:
            line += f" [{source.window}]"
        lines.append(line)
        if source.error:
            lines.append(f"{source.source}: FAILED: {source.error}")
    if report.index is not None:
        index = report.index
        lines.append(
            f"index: +{index.lexical_added} searchable, embedded {index.embedded}; "
            f"{index.vectors} of {index.papers} papers have vectors in {index.seconds:.1f} s"
        )
    if report.index_error:
        lines.append(f"index: FAILED: {report.index_error}")
    lines.append(f"sync {'FAILED' if report.failed else 'done'} in {report.seconds:.1f} s")
    return lines
