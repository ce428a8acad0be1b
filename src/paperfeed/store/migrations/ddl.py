"""Small portable DDL steps for migrations (SQLite and PostgreSQL accept the same text)."""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text


def add_column(connection: Connection, table: str, column: str, definition: str) -> None:
    """``ALTER TABLE table ADD COLUMN column definition``, skipped when it exists already.

    Args:
        connection: the migration's connection (inside its transaction).
        table: the table's name.
        column: the new column's name.
        definition: its SQL type and constraints, e.g. ``"TEXT"`` or
            ``"INTEGER NOT NULL DEFAULT 0"``.
    """
    existing = {info["name"] for info in inspect(connection).get_columns(table)}
    if column not in existing:
        connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {definition}"))
