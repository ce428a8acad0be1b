"""What SQL a block of code runs, for tests that bound how many statements a page costs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from paperfeed.store import Store


@contextmanager
def statements_run(store: Store, *words: str) -> Iterator[list[str]]:
    """The statements naming every one of ``words`` (without words: every statement) that
    ``store`` runs while the block runs."""
    seen: list[str] = []

    def record(*arguments: Any) -> None:
        statement = str(arguments[2])
        if all(word in statement.lower() for word in words):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
