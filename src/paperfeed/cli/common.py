"""What every ``paperfeed`` command shares: the settings, the store and the search engine,
opened with errors a person can read."""

from __future__ import annotations

from typing import Any

import click

from paperfeed.config import Settings, SettingsError
from paperfeed.store import Store, StoreError


def load_settings() -> Settings:
    """The ``PAPERFEED_*`` settings; a bad one is a usage error naming it."""
    try:
        return Settings.from_environment()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


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
