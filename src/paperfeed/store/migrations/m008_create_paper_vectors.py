"""Migration 8: ``paper_vectors``, the pgvector copy of each fresh embedding (PostgreSQL only).

On SQLite, or on a PostgreSQL server without the pgvector extension (or a role not
allowed to create it), this migration does nothing; the in-process vector index needs
none of it. ``PAPERFEED_VECTOR_BACKEND=pgvector`` runs :func:`apply` again (it is
idempotent), so installing the extension later is enough.

The column is an undimensioned ``vector``: one table holds every model's vectors, and
each model gets a partial HNSW index on ``embedding::vector(DIM)`` (pgvector's recipe
for several dimensions in one column), made by the pgvector backend when it knows DIM.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS paper_vectors (
    paper_key INTEGER NOT NULL REFERENCES papers (key),
    model VARCHAR(200) NOT NULL,
    content_hash VARCHAR(64) NOT NULL,
    embedding vector NOT NULL,
    CONSTRAINT pk_paper_vectors PRIMARY KEY (paper_key, model)
)
"""


def apply(connection: Connection) -> None:
    """Create the extension and the table where the server allows; else do nothing."""
    if connection.dialect.name != "postgresql":
        return
    available = connection.scalar(
        text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
    )
    if not available:
        return
    try:
        with connection.begin_nested():  # a refused CREATE EXTENSION must not end the migration
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    except DBAPIError:
        return
    connection.execute(text(CREATE_TABLE))
