"""Dense search inside PostgreSQL with pgvector (``PAPERFEED_VECTOR_BACKEND=pgvector``).

Every fresh embedding is copied into ``paper_vectors`` (migration 8), where a partial
HNSW index per model, on ``embedding::vector(DIM)`` with inner-product ops (the vectors
are unit length, so the inner product is the cosine), is kept up to date by PostgreSQL
as rows arrive: no replica builds or loads a vector index of its own. Date and category
filters run in SQL; restrictions only the lexical index knows (fielded words, phrases,
exclusions) are passed as a key list when short, else applied to a larger candidate set.
Iterative index scans (pgvector >= 0.8, ``hnsw.iterative_scan``) keep filtered queries
from coming back short.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, bindparam, inspect, text
from sqlalchemy.exc import DBAPIError

from paperfeed.index.dense_filters import NO_FILTER, Candidates, DenseFilter
from paperfeed.progress import progress_bar
from paperfeed.store import Store
from paperfeed.store.migrations import m008_create_paper_vectors

# HNSW build parameters (Malkov & Yashunin 2018): pgvector's defaults, m=16 links a node
# and ef_construction=64; ef_search is the recall/speed knob (bench/vector_backends.py).
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
EF_SEARCH = 128
# Up to this many allowed keys are sent to SQL as a list; beyond, the candidates are
# over-fetched and filtered here.
KEYS_IN_SQL = 20_000
SYNC_BATCH = 2_000


class PgVectorError(RuntimeError):
    """pgvector cannot be used with this database; the message says what to do."""


def _literal(value: str) -> str:
    """A SQL string literal (the partial index's predicate must be a constant to match)."""
    return "'" + value.replace("'", "''") + "'"


def index_name(model: str, dimension: int) -> str:
    """The name of the partial HNSW index of ``model``'s ``dimension``-wide vectors."""
    digest = hashlib.blake2b(f"{model}:{dimension}".encode(), digest_size=6).hexdigest()
    return f"ix_paper_vectors_hnsw_{digest}"


def _vector_text(vector: NDArray[np.float32]) -> str:
    return "[" + ",".join(repr(float(x)) for x in np.asarray(vector).reshape(-1)) + "]"


def stored_dimension(store: Store, model: str) -> int | None:
    """The dimension of ``model``'s stored embeddings, or None when it has none."""
    with store.engine.connect() as connection:
        value = connection.scalar(
            text("SELECT dimension FROM embeddings WHERE model = :model LIMIT 1"),
            {"model": model},
        )
    return int(value) if value is not None else None


def prepare(store: Store, model: str, dimension: int) -> None:
    """Make sure the extension and ``paper_vectors`` exist.

    Raises:
        PgVectorError: not PostgreSQL, or the extension is missing and cannot be created.
    """
    check_usable(store)


def check_usable(store: Store) -> None:
    """Make sure pgvector can be used here: the extension and ``paper_vectors`` exist, or
    are made now (a step for before long work that would end in this error anyway).

    Raises:
        PgVectorError: not PostgreSQL, or the extension is missing and cannot be created.
    """
    if store.engine.dialect.name != "postgresql":
        raise PgVectorError(
            f"PAPERFEED_VECTOR_BACKEND=pgvector needs PostgreSQL, not "
            f"{store.engine.dialect.name!r} (set PAPERFEED_DATABASE_URL=postgresql://...)"
        )
    with store.engine.begin() as connection:
        m008_create_paper_vectors.apply(connection)  # idempotent: the extension may be new
    if not inspect(store.engine).has_table("paper_vectors"):
        raise PgVectorError(
            "PAPERFEED_VECTOR_BACKEND=pgvector: the pgvector extension is not installed in "
            f"{store.engine.url.render_as_string(hide_password=True)} and this role cannot "
            "create it; as a superuser run CREATE EXTENSION vector; then paperfeed index"
        )


def create_hnsw_index(store: Store, model: str, dimension: int) -> None:
    """``model``'s partial HNSW index, if it is not there yet. Made after the first bulk
    copy (building over loaded rows is faster than inserting into the graph row by row);
    from then on PostgreSQL adds each new row to it. A first build over millions of rows
    wants a ``maintenance_work_mem`` that holds the graph (~2 KB a vector, see
    docs/scaling.md), or it slows down once the graph spills."""
    with store.engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE INDEX IF NOT EXISTS {index_name(model, dimension)} ON paper_vectors "
                f"USING hnsw ((embedding::vector({dimension})) vector_ip_ops) "
                f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) "
                f"WHERE model = {_literal(model)}"
            )
        )


def count_vectors(store: Store, model: str) -> int:
    """Papers whose pgvector row for ``model`` matches their current text."""
    with store.engine.connect() as connection:
        return int(
            connection.scalar(
                text(
                    "SELECT count(*) FROM paper_vectors v JOIN papers p ON p.key = v.paper_key "
                    "WHERE v.model = :model AND v.content_hash = p.content_hash"
                ),
                {"model": model},
            )
            or 0
        )


_MISSING = """
SELECT e.paper_key, e.content_hash, e.vector
FROM embeddings e
JOIN papers p ON p.key = e.paper_key AND p.content_hash = e.content_hash
LEFT JOIN paper_vectors v ON v.paper_key = e.paper_key AND v.model = e.model
WHERE e.model = :model AND e.paper_key > :after
  AND (v.paper_key IS NULL OR v.content_hash <> e.content_hash)
ORDER BY e.paper_key
LIMIT :limit
"""
_UPSERT = """
INSERT INTO paper_vectors (paper_key, model, content_hash, embedding)
VALUES (:paper_key, :model, :content_hash, CAST(:embedding AS real[])::vector)
ON CONFLICT (paper_key, model)
DO UPDATE SET content_hash = excluded.content_hash, embedding = excluded.embedding
"""


def _count_missing(connection: Connection, model: str) -> int:
    counted = _MISSING.replace(
        "SELECT e.paper_key, e.content_hash, e.vector", "SELECT count(*)"
    ).replace("ORDER BY e.paper_key\nLIMIT :limit", "")
    return int(connection.scalar(text(counted), {"model": model, "after": 0}) or 0)


def sync_vectors(store: Store, model: str, show_progress: bool = False) -> int:
    """Copy every fresh embedding of ``model`` that ``paper_vectors`` lacks (or holds
    stale) into it, a committed batch at a time; safe to interrupt and re-run.

    Returns:
        How many rows were written.
    """
    with store.engine.connect() as connection:
        total = _count_missing(connection, model)
    if total == 0:
        return 0
    written = 0
    after = 0
    with progress_bar(f"pgvector ({model})", total, enabled=show_progress) as progress:
        while True:
            with store.engine.begin() as connection:
                rows = connection.execute(
                    text(_MISSING), {"model": model, "after": after, "limit": SYNC_BATCH}
                ).all()
                if not rows:
                    break
                connection.execute(
                    text(_UPSERT),
                    [
                        {
                            "paper_key": int(key),
                            "model": model,
                            "content_hash": content_hash,
                            "embedding": np.frombuffer(vector, dtype="<f4").tolist(),
                        }
                        for key, content_hash, vector in rows
                    ],
                )
            after = int(rows[-1][0])
            written += len(rows)
            progress.update(len(rows))
    return written


@dataclass(frozen=True)
class _Query:
    sql: str
    parameters: dict[str, Any]


class PgVectorSearch:
    """Top-k by inner product over ``paper_vectors``, through its HNSW index."""

    kind = "pgvector"

    def __init__(
        self,
        store: Store,
        model: str,
        dimension: int,
        count: int,
        ef_search: int = EF_SEARCH,
        iterative: bool = True,
    ) -> None:
        self.store = store
        self.model = model
        self.dimension = dimension
        self.count = count
        self.ef_search = ef_search
        # pgvector < 0.8 has no iterative scans: a filtered query may then come back short
        self.iterative = iterative

    @classmethod
    def open(cls, store: Store, model: str, ef_search: int = EF_SEARCH) -> PgVectorSearch | None:
        """The search over ``model``'s vectors, or None when there are none yet."""
        if store.engine.dialect.name != "postgresql":
            return None
        if not inspect(store.engine).has_table("paper_vectors"):
            return None
        dimension = stored_dimension(store, model)
        count = count_vectors(store, model)
        if dimension is None or count == 0:
            return None
        with store.engine.connect() as connection:
            version = connection.scalar(
                text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            )
        major_minor = tuple(int(part) for part in str(version or "0.0").split(".")[:2])
        return cls(store, model, dimension, count, ef_search, iterative=major_minor >= (0, 8))

    def __len__(self) -> int:
        return self.count

    def vector_of(self, key: int) -> NDArray[np.float32] | None:
        with self.store.engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT e.vector FROM embeddings e JOIN papers p ON p.key = e.paper_key "
                    "WHERE e.paper_key = :key AND e.model = :model "
                    "AND e.content_hash = p.content_hash"
                ),
                {"key": int(key), "model": self.model},
            ).first()
        if row is None:
            return None
        return np.frombuffer(row[0], dtype="<f4").astype(np.float32)

    def vectors_of(self, keys: NDArray[np.int64]) -> NDArray[np.float32]:
        """The fresh vectors of ``keys`` in one statement (NaN rows for the others): a
        query's cosines were ~2,200 single-row round trips before."""
        rows = np.full((len(keys), self.dimension), np.nan, np.float32)
        if len(keys) == 0:
            return rows
        row_of = {int(key): row for row, key in enumerate(keys.tolist())}
        statement = text(
            "SELECT e.paper_key, e.vector FROM embeddings e JOIN papers p ON p.key = e.paper_key "
            "WHERE e.paper_key IN :keys AND e.model = :model "
            "AND e.content_hash = p.content_hash"
        ).bindparams(bindparam("keys", expanding=True))
        with self.store.engine.connect() as connection:
            for key, vector in connection.execute(
                statement, {"keys": list(row_of), "model": self.model}
            ):
                rows[row_of[int(key)]] = np.frombuffer(vector, dtype="<f4")
        return rows

    def _query(
        self, vector: NDArray[np.float32], limit: int, filters: DenseFilter, keys: Any
    ) -> _Query:
        distance = (
            f"(v.embedding::vector({self.dimension}) <#> CAST(:query AS vector({self.dimension})))"
        )
        conditions = [f"v.model = {_literal(self.model)}", "v.content_hash = p.content_hash"]
        parameters: dict[str, Any] = {"query": _vector_text(vector), "limit": int(limit)}
        shown_date = "COALESCE(p.daily_date, p.first_listed, p.published)"
        if filters.since:
            conditions.append(f"{shown_date} >= :since")
            parameters["since"] = filters.since
        if filters.until:
            # as the in-process filter: with no lower bound, undated papers pass
            conditions.append(
                f"{shown_date} <= :until"
                if filters.since
                else f"({shown_date} IS NULL OR {shown_date} <= :until)"
            )
            parameters["until"] = filters.until
        if filters.categories:
            conditions.append(
                "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST(p.categories AS jsonb)) "
                "AS c(name) WHERE lower(c.name) = ANY(:categories))"
            )
            parameters["categories"] = [category.lower() for category in filters.categories]
        if keys is not None:
            conditions.append("v.paper_key = ANY(:keys)")
            parameters["keys"] = keys
        sql = (
            f"SELECT v.paper_key, -{distance} AS score "
            "FROM paper_vectors v JOIN papers p ON p.key = v.paper_key "
            f"WHERE {' AND '.join(conditions)} ORDER BY {distance} LIMIT :limit"
        )
        return _Query(sql, parameters)

    def _run(self, query: _Query) -> Candidates:
        try:
            with self.store.engine.begin() as connection:
                connection.execute(text(f"SET LOCAL hnsw.ef_search = {int(self.ef_search)}"))
                if self.iterative:
                    connection.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
                rows = connection.execute(text(query.sql), query.parameters).all()
        except DBAPIError as error:
            raise PgVectorError(f"pgvector search failed: {error.orig}") from None
        keys = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        scores = np.fromiter((row[1] for row in rows), dtype=np.float32, count=len(rows))
        order = np.argsort(-scores, kind="stable")  # relaxed order: nearly sorted already
        return keys[order], scores[order]

    def search(
        self, query: NDArray[np.float32], limit: int, filters: DenseFilter = NO_FILTER
    ) -> Candidates:
        """Keys and cosine scores of the ``limit`` nearest allowed papers, best first."""
        if limit <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        if filters.term_mask is None:
            return self._run(self._query(query, limit, filters, None))
        allowed = np.flatnonzero(filters.term_mask)
        if len(allowed) <= KEYS_IN_SQL:
            return self._run(self._query(query, limit, filters, allowed.tolist()))
        fetch = limit * 8
        while True:
            keys, scores = self._run(self._query(query, fetch, filters, None))
            inside = keys < len(filters.term_mask)
            keep = np.zeros(len(keys), np.bool_)
            keep[inside] = filters.term_mask[keys[inside]]
            if keep.sum() >= limit or len(keys) < fetch or fetch >= limit * 64:
                return keys[keep][:limit], scores[keep][:limit]
            fetch *= 4
