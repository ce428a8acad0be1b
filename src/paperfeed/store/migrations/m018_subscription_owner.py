"""Migration 18: the account a digest subscription belongs to, when one proved it.

An account's download and deletion take in the subscriptions that are its own: one
made while signed in to the account of that address, or confirmed from its mailbox
while signed in to it. Sign-up does not prove an address, so a subscription of the
same address made by anyone else stays out of the account (``user_id`` stays NULL).
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Index, Integer, MetaData, Table, inspect

from paperfeed.store.migrations.ddl import add_column

_subscriptions = Table("subscriptions", MetaData(), Column("user_id", Integer))
_owner_index = Index("ix_subscriptions_user", _subscriptions.c.user_id)


def apply(connection: Connection) -> None:
    """Add ``subscriptions.user_id`` (NULL: no account's) and its index."""
    add_column(connection, "subscriptions", "user_id", "INTEGER")
    existing = {index["name"] for index in inspect(connection).get_indexes("subscriptions")}
    if _owner_index.name not in existing:
        _owner_index.create(connection)
