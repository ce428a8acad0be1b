"""The ``paperfeed`` command: thin wrappers over the library."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from paperfeed.cli_collections import collections_command
from paperfeed.cli_mcp import mcp_command
from paperfeed.cli_operations import OPERATIONS_COMMANDS
from paperfeed.cli_users import users_command
from paperfeed.config import Settings, SettingsError
from paperfeed.ingest import FORMATS, IngestError
from paperfeed.models import Hit, Rejection
from paperfeed.operations.logs import configure_logging
from paperfeed.store import Store, StoreError
from paperfeed.store.loading import StrictIngestError, ingest_sources

_MARK = re.compile(r"<mark>(.*?)</mark>")


def _settings() -> Settings:
    try:
        return Settings.from_environment()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _open_store(settings: Settings) -> Store:
    try:
        return Store(settings.database_url)
    except StoreError as error:
        raise click.ClickException(str(error)) from None


def _plain_snippet(snippet: str, color: bool) -> str:
    import html

    if color:
        marked = _MARK.sub(
            lambda match: click.style(match.group(1), bold=True, fg="yellow"), snippet
        )
    else:
        marked = _MARK.sub(lambda match: f"*{match.group(1)}*", snippet)
    return html.unescape(marked)


def hit_to_json(hit: Hit) -> dict[str, Any]:
    """The JSON shape of a hit, shared by ``search --json`` and ``--batch``."""
    from paperfeed.search.snippets import plain_snippet

    paper = hit.paper
    snippet, marks = plain_snippet(hit.snippet) if hit.snippet else (None, [])
    return {
        "id": paper.arxiv_id,
        "title": paper.title,
        "authors": paper.authors,
        "author_count": len(paper.authors),
        "organization": paper.organization,
        "date": paper.date,
        "categories": paper.categories,
        "upvotes": paper.upvotes,
        "score": round(hit.score, 6),
        "snippet": snippet,  # plain text: the marked words are at ``marks``
        "marks": [list(span) for span in marks],
        "matched_terms": list(hit.matched_terms),
        "found_by": hit.found_by,
        "lexical_rank": hit.lexical_rank,
        "semantic_rank": hit.semantic_rank,
        "keywords": paper.shown_keywords,
        "tldr": paper.shown_tldr or "",
    }


def _print_hit(position: int, hit: Hit, color: bool) -> None:
    paper = hit.paper
    authors = paper.organization or (
        ", ".join(paper.authors[:3])
        + (f" +{len(paper.authors) - 3}" if len(paper.authors) > 3 else "")
    )
    title = paper.title or "(untitled)"
    click.echo(
        click.style(f"{position:>3}. {title}", bold=True) if color else f"{position:>3}. {title}"
    )
    details = [paper.arxiv_id, paper.date or "no date", authors or "unknown authors"]
    if paper.upvotes is not None:
        details.append(f"▲ {paper.upvotes}")
    click.echo("     " + " · ".join(details))
    why = f"found by {hit.found_by}"
    if hit.matched_terms:
        why += "; matched " + ", ".join(hit.matched_terms)
    click.echo(f"     {why}; score {hit.score:.4f}")
    if hit.snippet:
        click.echo("     " + _plain_snippet(hit.snippet, color))


@click.group()
@click.version_option(package_name="paperfeed")
def main() -> None:
    """paperfeed: follow and search research papers on your own machine.

    Data lives in $PAPERFEED_HOME (default ~/.paperfeed); see README for settings.
    """


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "source_format", type=click.Choice(FORMATS), help="Skip detection.")
@click.option("--strict", is_flag=True, help="Stop at the first bad record.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def ingest(sources: tuple[Path, ...], source_format: str | None, strict: bool, quiet: bool) -> None:
    """Add papers from files or folders (arXiv JSONL, daily-papers API, datasets...)."""
    settings = _settings()
    store = _open_store(settings)
    shown = 0

    def report(rejection: Rejection) -> None:
        nonlocal shown
        shown += 1
        if shown <= 20:
            click.echo(f"rejected {rejection}", err=True)
        elif shown == 21:
            click.echo("(more rejections: counted in the summary)", err=True)

    try:
        summary = ingest_sources(
            store,
            list(sources),
            source_format,
            strict=strict,
            show_progress=not quiet,
            on_rejection=report,
        )
    except StrictIngestError as error:
        done = error.summary
        click.echo(
            f"stopped: added {done.added}, updated {done.updated}, "
            f"unchanged {done.unchanged} before the bad record",
            err=True,
        )
        raise click.ClickException(str(error)) from None
    except IngestError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"added {summary.added}, updated {summary.updated}, unchanged {summary.unchanged}, "
        f"rejected {summary.rejected}"
    )
    if summary.rejected and not (summary.added or summary.updated or summary.unchanged):
        # exit 1, as for a source that cannot be read: a cron chain must not go on
        raise click.ClickException(
            f"every record was rejected ({summary.rejected}): nothing was stored"
        )
    click.echo(f"{store.count_papers()} papers in the store; run `paperfeed index` to search them")


@main.command()
@click.option("--no-embed", is_flag=True, help="Lexical index only (fast); embed later.")
@click.option("--embed-limit", type=click.IntRange(min=0), help="Embed at most N papers now.")
@click.option(
    "--ray",
    "ray_address",
    metavar="ADDRESS|auto",
    help="Embed on this Ray cluster (host:port, ray://host:port, or auto); needs paperfeed[ray].",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def index(no_embed: bool, embed_limit: int | None, ray_address: str | None, quiet: bool) -> None:
    """Bring the search index up to date (resumable; only new or changed papers)."""
    from paperfeed.index.builder import update_index
    from paperfeed.index.embedder import EmbedderError
    from paperfeed.index.pgvector_index import PgVectorError

    if ray_address is not None and no_embed:
        raise click.UsageError("--ray embeds: it cannot go with --no-embed")
    settings = _settings()
    store = _open_store(settings)
    try:
        report = update_index(
            store,
            settings,
            embed=not no_embed,
            embed_limit=embed_limit,
            show_progress=not quiet,
            ray_address=ray_address,
        )
    except (EmbedderError, PgVectorError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"lexical: +{report.lexical_added} papers; embedded {report.embedded}; "
        f"{report.vectors} of {report.papers} papers have vectors ({report.seconds:.1f}s)"
    )


def _engine() -> Any:
    from paperfeed.search import SearchEngine

    settings = _settings()
    return SearchEngine(_open_store(settings), settings)


@main.command()
@click.argument("query", required=False)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, type=click.IntRange(min=0), help="Skip this many hits.")
@click.option("--sort", default="relevance", type=click.Choice(["relevance", "date", "upvotes"]))
@click.option("--since", help="Only papers dated on or after (YYYY[-MM[-DD]]).")
@click.option("--until", help="Only papers dated on or before (YYYY[-MM[-DD]]).")
@click.option("--category", "categories", multiple=True, help="e.g. cs.LG (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option(
    "--batch",
    type=click.File("r"),
    help="Read one query per line (- for stdin); write one JSON line of hits per query.",
)
def search(
    query: str | None,
    limit: int,
    offset: int,
    sort: str,
    since: str | None,
    until: str | None,
    categories: tuple[str, ...],
    as_json: bool,
    batch: Any,
) -> None:
    """Search papers: words, "phrases", -exclude, ti: au: abs: cat: since: until:."""
    from paperfeed.models import SearchResults
    from paperfeed.search import SearchError, parse_query

    if (query is None) == (batch is None):
        raise click.UsageError("give a QUERY or --batch FILE (not both)")
    # a bad option value is a usage error (exit 2), named by its option, before any work
    for option, filters in (
        ("--since", {"since": since}),
        ("--until", {"until": until}),
        ("--category", {"categories": categories}),
    ):
        try:
            parse_query("").with_filters(**filters)
        except SearchError as error:
            raise click.BadParameter(str(error), param_hint=f"'{option}'") from None
    try:
        parse_query("").with_filters(categories, since, until)
    except SearchError as error:
        raise click.UsageError(str(error)) from None
    engine = _engine()

    def run(text: str) -> SearchResults:
        # parsed once, here; the typed options merge into the parsed query
        parsed = parse_query(text).with_filters(categories, since, until)
        found: SearchResults = engine.search(parsed, limit=limit, offset=offset, sort=sort)
        return found

    try:
        if batch is not None:
            for line in batch:
                text = line.rstrip("\n")
                found = run(text) if text.strip() else None
                record = {
                    "query": text,
                    "total": found.total if found else 0,
                    "close_match": found.close_match if found else False,
                    "hits": [hit_to_json(hit) for hit in found.hits] if found else [],
                    "notes": list(found.notes) if found else ["empty query"],
                }
                sys.stdout.write(json.dumps(record) + "\n")
            return
        results = run(query or "")
    except SearchError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "query": results.query,
                    "total": results.total,
                    "total_exact": results.total_exact,
                    "ranked": results.pageable,
                    "offset": results.offset,
                    "close_match": results.close_match,
                    "notes": list(results.notes),
                    "hits": [hit_to_json(hit) for hit in results.hits],
                },
                indent=1,
            )
        )
        return
    for note in results.notes:
        click.echo(f"note: {note}", err=True)
    if not results.hits:
        click.echo("no papers match")
        return
    if not results.close_match:
        click.echo("no close match; the nearest papers by meaning:")
        for position, hit in enumerate(results.hits, start=1):
            _print_hit(position, hit, sys.stdout.isatty())
        return
    color = sys.stdout.isatty()
    counted = f"{results.total:,}{'' if results.total_exact else '+'}"
    click.echo(f"{counted} results; showing {offset + 1}–{offset + len(results.hits)}")
    for position, hit in enumerate(results.hits, start=offset + 1):
        _print_hit(position, hit, color)


@main.command()
@click.argument("arxiv_id", required=False)
@click.option("--text", help="Find papers like this pasted abstract instead of an id.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True)
def similar(arxiv_id: str | None, text: str | None, limit: int, as_json: bool) -> None:
    """Papers similar to ARXIV_ID (or to --text)."""
    from paperfeed.ingest import normalize_paper_id
    from paperfeed.search import SearchError

    if (arxiv_id is None) == (text is None):
        raise click.UsageError("give an ARXIV_ID or --text (not both)")
    engine = _engine()
    try:
        if arxiv_id is not None:
            normalized = normalize_paper_id(arxiv_id)
            if normalized is None:
                raise click.ClickException(f"{arxiv_id!r} is not an arXiv id or a DOI")
            hits = engine.similar(normalized, limit)
        else:
            hits = engine.similar_to_text(text or "", limit)
    except SearchError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps([hit_to_json(hit) for hit in hits], indent=1))
        return
    color = sys.stdout.isatty()
    for position, hit in enumerate(hits, start=1):
        _print_hit(position, hit, color)


@main.command()
@click.option("--json", "as_json", is_flag=True)
def stats(as_json: bool) -> None:
    """Papers, sources and index state."""
    from paperfeed.store.embedding_rows import count_fresh_embeddings
    from paperfeed.store.syncing import overview_lines, sync_overview

    settings = _settings()
    engine = _engine()
    syncs = sync_overview(engine.store)
    status = engine.status()
    papers = engine.store.count_papers()
    embedded = count_fresh_embeddings(engine.store, settings.embed_model)
    report = {
        "papers": papers,
        "sources": engine.store.count_by_source(),
        "database": settings.database_url.split("@")[-1],
        "index_dir": str(settings.index_dir),
        "embed_model": settings.embed_model,
        "embedded": embedded,
        "dense_coverage": round(status["vectors"] / papers, 4) if papers else 0.0,
        **status,
        "sync": [entry.to_json() for entry in syncs],
    }
    if as_json:
        click.echo(json.dumps(report, indent=1))
        return
    click.echo(f"papers:   {papers}")
    for source, count in report["sources"].items():
        click.echo(f"  from {source}: {count}")
    click.echo(
        f"lexical:  {status['lexical_documents']} papers searchable "
        f"({status['lexical_segments']} segments)"
    )
    if status["vectors"]:
        click.echo(
            f"semantic: {status['vectors']} of {papers} papers "
            f"({100 * report['dense_coverage']:.1f}%) with {status['vector_model']} vectors, "
            f"{status['vector_search']} search"
        )
    else:
        click.echo("semantic: no vectors yet")
    if embedded > status["vectors"]:
        click.echo(
            f"          {embedded - status['vectors']} more are embedded: run paperfeed index"
        )
    elif status["vectors"] < papers:
        click.echo("          run `paperfeed index` to embed the rest")
    for line in overview_lines(syncs):
        click.echo(line)


@main.command()
@click.option("--quiet", is_flag=True, help="No progress bars.")
def quickstart(quiet: bool) -> None:
    """Load the bundled corpus (~9.9k real daily papers, with vectors) and index it."""
    from paperfeed.quickstart import load_bundled_corpus

    settings = _settings()
    store = _open_store(settings)
    report = load_bundled_corpus(store, settings, show_progress=not quiet)
    click.echo(report)
    click.echo('try: paperfeed search "KL divergence"   or   paperfeed stats')


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (each loads the index; one per core is a good start).",
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the site, the JSON API (/api/docs) and the RSS feeds."""
    from paperfeed.operations.metrics_folder import prepare_multiprocess_folder

    settings = _settings()
    prepare_multiprocess_folder(settings)  # before prometheus_client is first imported

    from paperfeed.web import create_app
    from paperfeed.web.serving import default_base_url, serve_forever

    if not settings.base_url_configured:
        # workers read the settings from the environment: links follow the real port
        base_url, warning = default_base_url(host, port)
        os.environ["PAPERFEED_BASE_URL"] = base_url
        settings = replace(settings, base_url=base_url)
        if warning:
            click.echo(f"warning: {warning}", err=True)
    try:
        # fail here, readably, on a bad database or settings; workers build their own
        create_app(settings).state.store.close()
    except StoreError as error:
        raise click.ClickException(str(error)) from None

    from paperfeed.sync.reports import SyncError
    from paperfeed.sync.running import check_settings, configured_sources

    if settings.sync_interval_minutes is not None:
        try:
            check_settings(settings)
        except SyncError as error:
            raise click.ClickException(f"cannot sync on a schedule: {error}") from None

    from paperfeed.scheduling import run_jobs_when_elected, scheduled_jobs

    jobs = scheduled_jobs(settings, on_sync_report=_print_sync_report)

    def say_what_runs() -> None:
        if settings.digest_hour is not None:
            click.echo(f"digests go out at {settings.digest_hour}:00 in each subscriber's zone")
        if settings.sync_interval_minutes is not None:
            # digests then go out after each sync, so they carry what it brought in (a
            # digest composed before would find the period empty, and that is final)
            click.echo(
                f"syncing {', '.join(configured_sources(settings)) or 'no source'} every "
                f"{settings.sync_interval_minutes:g} min (first sync now)"
                + ("; digests after each sync" if settings.digest_hour is not None else "")
            )

    def elect_scheduler() -> None:
        # however many replicas serve the same database, one runs the schedules; when it
        # stops, another takes over within seconds
        run_jobs_when_elected(
            settings,
            jobs,
            on_elected=say_what_runs,
            on_standby=lambda: click.echo(
                "schedules: another replica holds the scheduler lock; this one takes over "
                "if that one stops"
            ),
        )

    try:
        click.echo(
            f"paperfeed on http://{host}:{port}/ with {workers} worker(s) "
            "(API docs: /api/docs; Ctrl+C stops)"
        )
        serve_forever(
            host,
            port,
            workers,
            after_start=elect_scheduler if jobs else None,
        )
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from None


def _print_sync_report(report: Any) -> None:
    from paperfeed.sync.running import report_lines

    for line in report_lines(report):
        click.echo(line, err="FAILED" in line)


@main.command()
@click.argument(
    "source",
    required=False,
    type=click.Choice(["arxiv", "daily-papers", "biorxiv", "medrxiv", "arxiv-listing"]),
)
@click.option("--from", "first", metavar="YYYY-MM-DD", help="Start of the window.")
@click.option("--until", "last", metavar="YYYY-MM-DD", help="End of the window.")
@click.option("--no-index", is_flag=True, help="Store only; update the index later.")
@click.option("--no-embed", is_flag=True, help="Update the lexical index only; embed later.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def sync(
    source: str | None,
    first: str | None,
    last: str | None,
    no_index: bool,
    no_embed: bool,
    quiet: bool,
) -> None:
    """Fetch new papers (arXiv OAI-PMH and its daily listing, the daily-papers API,
    bioRxiv and medRxiv), then update the index.

    Without SOURCE, every configured source. Without --from, each source carries on
    from where its last sync stopped (the first time: the last 7 days). Exit status 0
    when every source synced (whether or not anything was new), 1 when one failed or
    was left incomplete: what it fetched is stored and the next run carries on.
    """
    from paperfeed.sync.reports import SyncError
    from paperfeed.sync.running import run_sync

    settings = _settings()
    configure_logging(settings)  # the job's one log line, on stderr
    store = _open_store(settings)
    try:
        report = run_sync(
            store,
            settings,
            [source] if source else None,
            first,
            last,
            index=not no_index,
            embed=not no_embed,
            show_progress=not quiet,
            on_progress=None if quiet else lambda line: click.echo(line, err=True),
        )
    except SyncError as error:
        raise click.ClickException(str(error)) from None
    _print_sync_report(report)
    for result in report.sources:
        for rejection in result.rejections[:20]:
            click.echo(f"rejected {rejection}", err=True)
    if report.failed:
        sys.exit(1)


@main.group()
def digest() -> None:
    """Email digests: compose, queue and send."""


@digest.command("send")
@click.option(
    "--period",
    "frequency",
    type=click.Choice(["daily", "weekly"]),
    default="daily",
    show_default=True,
    help="Which subscribers: daily or weekly.",
)
@click.option(
    "--for",
    "label",
    metavar="DAY|WEEK",
    help="Compose for this day (2026-08-21) or ISO week (2026-W34, or any day of it "
    "with --period weekly) instead of each subscriber's last complete one.",
)
@click.option("--dry-run", is_flag=True, help="Compose and print; queue and send nothing.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def digest_send(frequency: str, label: str | None, dry_run: bool, quiet: bool) -> None:
    """Queue every due digest in the outbox, then send what the outbox holds.

    Safe to run as often as you like (e.g. hourly from cron): a period is composed
    once per subscriber, a message is sent once, failures are retried with backoff.
    Exit status 0 when everything due was sent, 1 when some mail is left to retry.
    """
    from paperfeed.digest.composing import Period, PeriodError
    from paperfeed.digest.rendering import text_of
    from paperfeed.digest.sending import Mailer, deliver_due, queue_digests
    from paperfeed.search import SearchEngine
    from paperfeed.store.subscriptions import Subscription, waiting_for_retry

    settings = _settings()
    configure_logging(settings)  # the job's log lines, on stderr
    store = _open_store(settings)
    if label is not None:
        try:
            label = Period.parse(frequency, label).label  # a day of the week names its week
        except PeriodError as error:
            raise click.BadParameter(str(error), param_hint="--for") from None
    if not settings.base_url_configured:
        click.echo(
            f"warning: PAPERFEED_BASE_URL is not set: links in the mails say {settings.base_url}",
            err=True,
        )
    engine = SearchEngine(store, settings)

    def show(subscription: Subscription, message: bytes | None) -> None:
        if message is None:
            click.echo(f"{subscription.email}: nothing new in the period, no mail")
        else:
            subject, text = text_of(message)
            click.echo(f"--- {subscription.email}: {subject}\n{text}")

    report = queue_digests(
        store,
        engine,
        settings,
        frequency,
        period=label,
        dry_run=dry_run,
        show_progress=not quiet,
        on_digest=show if dry_run else None,
    )
    click.echo(
        f"{frequency} digests: {report.subscribers} confirmed subscribers, "
        f"{report.queued if not dry_run else report.subscribers - report.already - report.empty}"
        f" {'composed' if dry_run else 'queued'}, {report.empty} with nothing new, "
        f"{report.already} composed before; {report.searches} topic searches "
        f"in {report.seconds:.1f} s"
    )
    if dry_run:
        return
    delivery = deliver_due(store, Mailer(settings), show_progress=not quiet)
    click.echo(f"sent {delivery.sent}, failed {delivery.failed} (retried later with backoff)")
    for problem in delivery.errors:
        click.echo(f"  {problem}", err=True)
    waiting, next_at = waiting_for_retry(store)
    if waiting:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(next_at or time.time()))
        click.echo(f"{waiting} mail(s) wait for a retry (the next at {when})", err=True)
    if delivery.failed or waiting:
        sys.exit(1)


@digest.command("status")
def digest_status() -> None:
    """Outbox messages by status."""
    from paperfeed.store.subscriptions import outbox_counts

    counts = outbox_counts(_open_store(_settings()))
    summary = ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))
    click.echo(summary or "the outbox is empty")


main.add_command(collections_command)
main.add_command(users_command)
for _command in OPERATIONS_COMMANDS:  # backup, restore, migrate, mail
    main.add_command(_command)
main.add_command(mcp_command)

if __name__ == "__main__":  # pragma: no cover
    main()
