"""Migration 16: an index on the organisation a paper's source named.

An organisation's page reads its papers by their spellings (``organization IN (...)``);
without an index that read every paper (~110 ms at 89,468 papers).
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Index, MetaData, Table, Text, inspect

_papers = Table("papers", MetaData(), Column("organization", Text))
_organization_index = Index("ix_papers_organization", _papers.c.organization)


def apply(connection: Connection) -> None:
    """Create the index on ``papers.organization``."""
    existing = {index["name"] for index in inspect(connection).get_indexes("papers")}
    if _organization_index.name not in existing:
        _organization_index.create(connection)
