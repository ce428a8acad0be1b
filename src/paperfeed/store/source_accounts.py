"""The daily-papers source's submitters and organisations, as it described them.

Written with the papers that name them (``upsert_papers_in``), read by the API that
answers in the original site's shape. The latest description of an account wins.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, select, tuple_

from paperfeed.models import Paper, SourceAccount
from paperfeed.store import schema

if TYPE_CHECKING:  # database.py writes accounts with its papers: no import circle
    from paperfeed.store.database import Store

USER = "user"
ORGANIZATION = "organization"
_CHUNK = 500

# the longest name ``source_accounts.name`` holds
MAX_NAME = 200  # String(200) in store/schema.py


def record_accounts_in(connection: Connection, papers: Iterable[Paper]) -> int:
    """Store the accounts the papers carry (the last description of each wins).

    Returns:
        How many accounts were written.
    """
    latest: dict[tuple[str, str], SourceAccount] = {}
    for paper in papers:
        for account in paper.accounts:
            # (the name is the key: one the table cannot hold, or that holds a NUL, which
            # PostgreSQL refuses, is left out; its paper is stored all the same)
            if len(account.name) <= MAX_NAME and "\x00" not in account.name:
                latest[(account.kind, account.name)] = account
    if not latest:
        return 0
    now = time.time()
    table = schema.source_accounts
    keys = list(latest)
    existing: dict[tuple[str, str], str] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        for row in connection.execute(
            select(table.c.kind, table.c.name, table.c.profile).where(
                tuple_(table.c.kind, table.c.name).in_(chunk)
            )
        ):
            existing[(row.kind, row.name)] = row.profile
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for key, account in latest.items():
        profile = json.dumps(account.profile, sort_keys=True)
        if key not in existing:
            added.append({"kind": account.kind, "name": account.name, "profile": profile})
        elif existing[key] != profile:
            changed.append(
                {"at_kind": account.kind, "at_name": account.name, "new_profile": profile}
            )
    # one statement each, run for many rows: a statement per account took ~3 s of the
    # quick start's 9,877 papers
    if added:
        connection.execute(table.insert().values(updated_at=now), added)
    if changed:
        connection.execute(
            table.update()
            .where(table.c.kind == bindparam("at_kind"), table.c.name == bindparam("at_name"))
            .values(profile=bindparam("new_profile"), updated_at=now),
            changed,
        )
    return len(added) + len(changed)


# built once, as ``store.database.PAPERS_WITH_KEYS``: every JSON search runs them
_PROFILES_NAMED = select(schema.source_accounts.c.name, schema.source_accounts.c.profile).where(
    schema.source_accounts.c.kind == bindparam("kind"),
    schema.source_accounts.c.name.in_(bindparam("names", expanding=True)),
)
_SUBMITTERS_OF_PAPERS = (
    select(schema.submissions.c.paper_key, schema.users.c.name)
    .join(schema.users, schema.users.c.id == schema.submissions.c.user_id)
    .where(schema.submissions.c.paper_key.in_(bindparam("keys", expanding=True)))
)


def accounts_named(store: Store, kind: str, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored profiles of accounts of ``kind`` by name; names not stored are absent."""
    wanted = sorted({name for name in names if name})
    found: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as connection:
        for start in range(0, len(wanted), _CHUNK):
            rows = connection.execute(
                _PROFILES_NAMED, {"kind": kind, "names": wanted[start : start + _CHUNK]}
            )
            for row in rows:
                found[row.name] = json.loads(row.profile)
    return found


def local_submitters(store: Store, paper_keys: Sequence[int]) -> dict[int, str]:
    """The display names of this site's users who put these papers on a daily list, by
    paper key (papers nobody here submitted are absent)."""
    keys = sorted(set(paper_keys))
    found: dict[int, str] = {}
    with store.engine.connect() as connection:
        for start in range(0, len(keys), _CHUNK):
            rows = connection.execute(_SUBMITTERS_OF_PAPERS, {"keys": keys[start : start + _CHUNK]})
            for row in rows:
                found[int(row.paper_key)] = str(row.name)
    return found
