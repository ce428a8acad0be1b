"""Prometheus metrics: what the server counts as it runs, and what the store says at scrape.

Two kinds, chosen so that ``paperfeed serve --workers N`` answers the same whichever
worker a scrape reaches:

- Counted in the process that did the work (requests and their latency by route
  template, search latency by stage). Under ``paperfeed serve`` these live in
  prometheus_client's multiprocess files (``metrics_folder``) and a scrape sums every
  worker's; in a single process (tests, an embedding app) they live in memory.
- Read from the database at scrape time (sync runs, papers added, the last successful
  sync, outbox depth and send failures, papers stored): the sync and the digests run in
  the server's scheduler or in a cron job, other processes, and the database is where
  they all write, so no process has to count them and none can miss them. Index size
  comes from the scraping worker's loaded index (every worker loads the same files).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError

from paperfeed.operations.metrics_folder import multiprocess_mode
from paperfeed.search import SearchEngine
from paperfeed.store import schema
from paperfeed.store.sync_runs import running_runs_in

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# prometheus_client chose memory or files when first imported (just above): decide with it,
# not with the environment at scrape time
MULTIPROCESS = multiprocess_mode()
# page and API answers take milliseconds; an unindexed search or a slow disk, seconds
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STAGE_BUCKETS = (0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

# registry=None: each app builds its own registry (in-process or multiprocess) below
REQUESTS = Counter(
    "paperfeed_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=None,
)
REQUEST_SECONDS = Histogram(
    "paperfeed_http_request_duration_seconds",
    "Time from request to the end of the answer, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
SEARCH_STAGE_SECONDS = Histogram(
    "paperfeed_search_stage_duration_seconds",
    "Time each stage of a search ranking took (filters, embed, candidates, fusion); "
    "cached rankings are not timed again.",
    ["stage"],
    buckets=STAGE_BUCKETS,
    registry=None,
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_SECONDS.labels(method, route).observe(seconds)


def observe_search_stages(timings: Mapping[str, float]) -> None:
    for stage, seconds in timings.items():
        SEARCH_STAGE_SECONDS.labels(stage).observe(seconds)


class StoreCollector(Collector):
    """The metrics read from the database and the loaded index at each scrape."""

    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine

    def describe(self) -> Iterable[Metric]:
        return []  # computed at scrape; nothing to check for name clashes up front

    def collect(self) -> Iterable[Metric]:
        try:
            figures = self._store_figures()
        except SQLAlchemyError:
            figures = None  # the database does not answer: say so, give the rest
        yield GaugeMetricFamily(
            "paperfeed_database_up",
            "1 when the database answered this scrape, 0 when it did not (then the "
            "metrics read from it are left out).",
            value=0.0 if figures is None else 1.0,
        )
        yield from figures or []
        yield from self._index_figures()

    def _store_figures(self) -> list[Metric]:
        """The metrics read from the database, each read whole before any is given."""
        runs = CounterMetricFamily(
            "paperfeed_sync_runs",
            "Sync runs finished, by source and outcome (ok, failed).",
            labels=["source", "status"],
        )
        # a run "running" now is "ok" or "failed" later: counted there, never here, since a
        # counter that went down would read as a restart to Prometheus; one whose process
        # on this host has ended is failed already (the next sync records it so)
        in_progress = GaugeMetricFamily(
            "paperfeed_sync_runs_in_progress",
            "Sync runs started and not finished, by source (a run of another host is "
            "counted until it records its end: its process cannot be checked from here).",
            labels=["source"],
        )
        added = CounterMetricFamily(
            "paperfeed_sync_papers_added",
            "Papers new to the store brought in by sync runs, by source.",
            labels=["source"],
        )
        last_success = GaugeMetricFamily(
            "paperfeed_sync_last_success_timestamp_seconds",
            "When the last successful sync of each source finished (Unix time).",
            labels=["source"],
        )
        sync_runs = schema.sync_runs
        outbox = schema.outbox
        with self.engine.store.engine.connect() as connection:
            totals: dict[str, float] = {}
            counted: dict[tuple[str, str], int] = {}
            for source, status, count, papers in connection.execute(
                select(
                    sync_runs.c.source,
                    sync_runs.c.status,
                    func.count(),
                    func.coalesce(func.sum(sync_runs.c.added), 0),
                ).group_by(sync_runs.c.source, sync_runs.c.status)
            ):
                if status != "running":
                    counted[(source, str(status))] = counted.get((source, str(status)), 0) + count
                totals[source] = totals.get(source, 0.0) + float(papers)
            going: dict[str, int] = {}
            for run in running_runs_in(connection):
                if run.status == "running":
                    going[run.source] = going.get(run.source, 0) + 1
                else:  # its process ended: failed, as it will be recorded
                    key = (run.source, run.status)
                    counted[key] = counted.get(key, 0) + 1
            for (source, status), count in sorted(counted.items()):
                runs.add_metric([source, status], count)
            for source, count in sorted(going.items()):
                in_progress.add_metric([source], count)
            for source, papers in sorted(totals.items()):
                added.add_metric([source], papers)
            for source, finished in connection.execute(
                select(sync_runs.c.source, func.max(sync_runs.c.finished_at))
                .where(sync_runs.c.status == "ok")
                .group_by(sync_runs.c.source)
            ):
                if finished is not None:
                    last_success.add_metric([source], float(finished))
            by_status: dict[str, int] = {
                str(status): int(count)
                for status, count in connection.execute(
                    select(outbox.c.status, func.count()).group_by(outbox.c.status)
                )
            }
            # every attempt that did not end in "sent" failed: attempts minus sent messages
            failures = connection.scalar(
                select(
                    func.coalesce(func.sum(outbox.c.attempts), 0)
                    - func.coalesce(func.sum(case((outbox.c.status == "sent", 1), else_=0)), 0)
                )
            )
            papers = connection.scalar(select(func.count()).select_from(schema.papers))
        depth = GaugeMetricFamily(
            "paperfeed_outbox_depth",
            "Mails waiting to be sent (pending, or claimed by a sender just now).",
        )
        depth.add_metric([], float(by_status.get("pending", 0) + by_status.get("sending", 0)))
        messages = GaugeMetricFamily(
            "paperfeed_outbox_messages", "Outbox messages by status.", labels=["status"]
        )
        for status, count in sorted(by_status.items()):
            messages.add_metric([str(status)], float(count))
        failed = CounterMetricFamily(
            "paperfeed_outbox_send_failures",
            "Failed attempts to hand an outbox message to the mail server.",
            value=float(failures or 0),
        )
        stored = GaugeMetricFamily(
            "paperfeed_store_papers", "Papers stored.", value=float(papers or 0)
        )
        return [runs, in_progress, added, last_success, depth, messages, failed, stored]

    def _index_figures(self) -> Iterable[Metric]:
        status = self.engine.status()
        yield GaugeMetricFamily(
            "paperfeed_index_papers",
            "Papers in the loaded lexical index (searchable by their words).",
            value=float(status["lexical_documents"]),
        )
        yield GaugeMetricFamily(
            "paperfeed_index_vectors",
            "Vectors in the loaded dense index (searchable by meaning).",
            value=float(status["vectors"]),
        )


def make_registry(engine: SearchEngine) -> CollectorRegistry:
    """The registry one app serves at ``/metrics``; also subscribes to ``engine``'s
    stage timings."""
    registry = CollectorRegistry(auto_describe=False)
    if MULTIPROCESS:
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for metric in (REQUESTS, REQUEST_SECONDS, SEARCH_STAGE_SECONDS):
            registry.register(metric)
    registry.register(StoreCollector(engine))
    if observe_search_stages not in engine.timing_observers:
        engine.timing_observers.append(observe_search_stages)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The Prometheus text format of everything ``registry`` collects."""
    return generate_latest(registry)
