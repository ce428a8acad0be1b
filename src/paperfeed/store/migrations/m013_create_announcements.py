"""Migration 13: arXiv's daily announcements, one row per paper and announcement day, and
an index on the lower-cased DOI of papers (a bioRxiv/medRxiv paper merges with the arXiv
paper carrying its DOI, looked up on every harvested page)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Connection,
    Float,
    Index,
    MetaData,
    String,
    Table,
    Text,
    func,
    inspect,
)

metadata = MetaData()

arxiv_announcements = Table(
    "arxiv_announcements",
    metadata,
    Column("day", String(10), primary_key=True),  # the announcement day, YYYY-MM-DD
    Column("arxiv_id", String(64), primary_key=True),
    # "new", "cross", "replace" or "replace-cross", as the listing's announce_type says
    Column("announce_type", String(20), nullable=False),
    Column("listing", String(40), nullable=False),  # the feed it was read from, e.g. "cs"
    Column("recorded_at", Float, nullable=False),
    Index("ix_arxiv_announcements_arxiv_id", "arxiv_id"),
)

# on the papers table of migration 1
_papers = Table("papers", MetaData(), Column("doi", Text))
_doi_index = Index("ix_papers_doi_lower", func.lower(_papers.c.doi))


def apply(connection: Connection) -> None:
    """Create the table and the index above."""
    metadata.create_all(connection)
    existing = {index["name"] for index in inspect(connection).get_indexes("papers")}
    if _doi_index.name not in existing:
        _doi_index.create(connection)
