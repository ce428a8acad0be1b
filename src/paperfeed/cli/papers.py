"""``paperfeed ingest``, ``index``, ``stats`` and ``quickstart``: bringing papers in and
keeping the index up to date."""

from __future__ import annotations

import json
from pathlib import Path

import click

from paperfeed.cli.common import load_settings, open_engine, open_store, quiet_option
from paperfeed.ingest import FORMATS, IngestError
from paperfeed.models import Rejection
from paperfeed.store.loading import StrictIngestError, ingest_sources


@click.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "source_format", type=click.Choice(FORMATS), help="Skip detection.")
@click.option("--strict", is_flag=True, help="Stop at the first bad record.")
@quiet_option("No progress bar")
def ingest(sources: tuple[Path, ...], source_format: str | None, strict: bool, quiet: bool) -> None:
    """Add papers from files or folders (arXiv JSONL, daily-papers API, datasets...)."""
    settings = load_settings()
    store = open_store(settings)
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


@click.command()
@click.option("--no-embed", is_flag=True, help="Lexical index only (fast); embed later.")
@click.option("--embed-limit", type=click.IntRange(min=0), help="Embed at most N papers now.")
@click.option(
    "--ray",
    "ray_address",
    metavar="ADDRESS|auto",
    help="Embed on this Ray cluster (host:port, ray://host:port, or auto); needs paperfeed[ray].",
)
@quiet_option("No progress bars")
def index(no_embed: bool, embed_limit: int | None, ray_address: str | None, quiet: bool) -> None:
    """Bring the search index up to date (resumable; only new or changed papers)."""
    from paperfeed.index.builder import update_index
    from paperfeed.index.embedder import EmbedderError
    from paperfeed.index.pgvector_index import PgVectorError

    if ray_address is not None and no_embed:
        raise click.UsageError("--ray embeds: it cannot go with --no-embed")
    settings = load_settings()
    store = open_store(settings)
    try:
        report = update_index(
            store,
            settings,
            embed=not no_embed,
            embed_limit=embed_limit,
            show_progress=not quiet,
            ray_address=ray_address,
        )
    except (EmbedderError, PgVectorError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"lexical: +{report.lexical_added} papers; embedded {report.embedded}; "
        f"{report.vectors} of {report.papers} papers have vectors ({report.seconds:.1f}s)"
    )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def stats(as_json: bool) -> None:
    """Papers, sources and index state."""
    from paperfeed.store.embedding_rows import count_fresh_embeddings
    from paperfeed.store.sync_runs import overview_lines, sync_overview

    settings = load_settings()
    engine = open_engine()
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


@click.command()
@quiet_option("No progress bars")
def quickstart(quiet: bool) -> None:
    """Load the bundled corpus (~9.9k real daily papers, with vectors) and index it."""
    from paperfeed.index.embedder import EmbedderError
    from paperfeed.index.pgvector_index import PgVectorError
    from paperfeed.quickstart import load_bundled_corpus

    settings = load_settings()
    store = open_store(settings)
    if settings.vector_backend == "pgvector":
        # said before ~10k papers are stored (a minute on PostgreSQL), not after
        from paperfeed.index.pgvector_index import check_usable

        try:
            check_usable(store)
        except PgVectorError as error:
            raise click.ClickException(f"{error} (nothing was loaded)") from None
    try:
        report = load_bundled_corpus(store, settings, show_progress=not quiet)
    except (EmbedderError, PgVectorError, OSError) as error:  # the papers are stored, not indexed
        raise click.ClickException(f"{error} (the papers are stored)") from None
    click.echo(report)
    click.echo('try: paperfeed search "KL divergence"   or   paperfeed stats')
