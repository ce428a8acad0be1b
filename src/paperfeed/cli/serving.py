"""``paperfeed serve``: the site, the JSON API and the RSS feeds, with the schedules."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import replace

import click

from paperfeed.cli.common import load_settings
from paperfeed.cli.syncing import print_sync_report
from paperfeed.store import StoreError


@click.command()
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

    settings = load_settings()
    # a loop or parser named but not installed failed in every worker, restarted forever
    for variable, chosen in (
        ("PAPERFEED_SERVER_LOOP", settings.server_loop),
        ("PAPERFEED_SERVER_HTTP", settings.server_http),
    ):
        if chosen in ("uvloop", "httptools") and not is_installed(chosen):
            raise click.ClickException(
                f"{variable}={chosen!r} needs the {chosen} package: pip install {chosen} "
                "(or set it to auto)"
            )
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

    jobs = scheduled_jobs(settings, on_sync_report=print_sync_report)

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
            f"paperfeed on http://{host}:{port}/ with {workers} worker(s), "
            f"{package_that_runs(settings.server_loop, 'uvloop', 'asyncio')} and "
            f"{package_that_runs(settings.server_http, 'httptools', 'h11')} "
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


def package_that_runs(setting: str, faster: str, fallback: str) -> str:
    """The event loop or HTTP parser a ``PAPERFEED_SERVER_*`` setting runs: ``auto`` is
    the faster package where it is installed, as uvicorn picks it."""
    if setting != "auto":
        return setting
    return faster if is_installed(faster) else fallback


def is_installed(package: str) -> bool:
    """Whether ``package`` can be imported here (found without importing it)."""
    return importlib.util.find_spec(package) is not None
