"""Migration 17: what releases before address canonicalisation stored, put in today's form.

Early releases stored an address lower-cased only; today every address that keys an
account or a subscription is canonical (``mail_addresses.canonical_address``: quotes
around the local part dropped, no trailing dot on the domain, the domain in IDNA), and
it is looked up exactly. So ``dave@example.org.`` or ``carol@bücher.example``, signed up
then, could never sign in again, and saving that subscription made a second one. Each
such address is rewritten to its canonical form, unless another row has that form
already (the two are then left as they are: merging accounts is an admin's decision).

Those releases also stored papers under ids that are no arXiv id or DOI (``2613.00001``,
``foo/1234567``): they stayed on the lists and in search, but no page, vote or comment
could name them. They are hidden, with a reason an admin sees on /admin/papers.
"""

from __future__ import annotations

import time

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from paperfeed.ingest.identifiers import normalize_paper_id
from paperfeed.mail_addresses import AddressError, canonical_address

_metadata = MetaData()
_users = Table("users", _metadata, Column("id", Integer), Column("email", String(320)))
_subscriptions = Table(
    "subscriptions", _metadata, Column("id", Integer), Column("email", String(320))
)
_papers = Table("papers", _metadata, Column("key", Integer), Column("arxiv_id", String(64)))
_hidden = Table(
    "hidden_papers",
    _metadata,
    Column("paper_key", Integer),
    Column("hidden_by", Integer),
    Column("hidden_at", Float),
    Column("reason", Text),
)
_UNNAMEABLE = "its id is no arXiv id or DOI (stored by an older release): no page could show it"


def _canonical_or_none(address: str) -> str | None:
    try:
        return canonical_address(address)
    except AddressError:
        return None  # not an address today either: left for an admin to see


def _canonicalise(connection: Connection, table: Table) -> None:
    rows = connection.execute(select(table.c.id, table.c.email)).all()
    taken = {email for _, email in rows}
    for row_id, email in rows:
        canonical = _canonical_or_none(email)
        if canonical is None or canonical == email or canonical in taken:
            continue
        connection.execute(update(table).where(table.c.id == row_id).values(email=canonical))
        taken.discard(email)
        taken.add(canonical)


def apply(connection: Connection) -> None:
    """Rewrite stored addresses to their canonical form; hide papers no id can name."""
    _canonicalise(connection, _users)
    _canonicalise(connection, _subscriptions)
    hidden = set(connection.scalars(select(_hidden.c.paper_key)))
    now = time.time()
    for key, arxiv_id in connection.execute(select(_papers.c.key, _papers.c.arxiv_id)):
        if key not in hidden and normalize_paper_id(arxiv_id) is None:
            connection.execute(
                insert(_hidden).values(
                    paper_key=key, hidden_by=None, hidden_at=now, reason=_UNNAMEABLE
                )
            )
