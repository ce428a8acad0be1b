"""What every ``paperfeed`` command shares: the settings, the store and the search engine,
opened with errors a person can read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from paperfeed.accounts import configure_password_hashing
from paperfeed.config import Settings, SettingsError
from paperfeed.store import Store, StoreError

_Command = TypeVar("_Command", bound=Callable[..., Any])


def quiet_option(leaves_out: str) -> Callable[[_Command], _Command]:
    """``--quiet`` for a command cron runs, where anything it prints is mailed: the help
    says what ``leaves_out`` (progress bars...) and that only warnings and errors reach
    standard error. The command passes the flag to ``configure_logging`` and keeps its
    own notes back; what it prints on standard output is its result, as without it."""
    return click.option(
        "--quiet",
        is_flag=True,
        help=f"{leaves_out}; only warnings and errors on standard error (for cron).",
    )


def load_settings() -> Settings:
    """The ``PAPERFEED_*`` settings; a bad one is a usage error naming it."""
    try:
        settings = Settings.from_environment()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    configure_password_hashing(settings.argon2_parameters)
    return settings


def open_store(settings: Settings) -> Store:
    """The store the settings name (migrated); a bad URL or database is an error naming it."""
    try:
        return Store(settings.database_url)
    except StoreError as error:
        raise click.ClickException(str(error)) from None


def open_engine() -> Any:
    """A search engine over the configured store and index (imported here: commands that do
    not search start without numpy and the index code)."""
    from paperfeed.search import SearchEngine

    settings = load_settings()
    return SearchEngine(open_store(settings), settings)


def counted(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless one: "1 comment", "3 API tokens"."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
