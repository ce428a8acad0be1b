"""Dense vector index: exact inner-product search, or HNSW (faiss) above a size limit.

An exact search from the index's second on shortlists from a float16 copy and scores the
shortlist in float32, with a bound that proves the answer is the full scan's
(:mod:`paperfeed.index.half_precision`).

Vectors are L2-normalised, so the inner product is the cosine similarity. Files:
``keys.npy`` (int64, ascending), ``vectors.npy`` (float32, memory-mapped on load),
``manifest.json`` and, for large indexes, ``hnsw.faiss`` (faiss's own binary format, written
by ``faiss.write_index``; no pickle) with ``hnsw_keys.npy``, the paper key of each HNSW
entry in insertion order (-1: an entry whose paper was re-embedded or removed since).

The HNSW graph is grown, not rebuilt: :meth:`VectorIndex.build` given the previous index
``add``s only the vectors of new or re-embedded papers to its graph (building 1M vectors
from scratch took 755 s on 2 cores). Replaced entries stay in the graph as -1 and are
skipped by searches; past :data:`HNSW_STALE_LIMIT` of them the graph is rebuilt.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.half_precision import MIN_ROWS, LazyHalfPrecisionScan, shortlist_size
from paperfeed.index.sorted_lookup import find_sorted

# HNSW parameters (Malkov & Yashunin 2018): M=32 links a node, efSearch trades recall
# for speed. On real all-MiniLM vectors (the bundled 9,877 papers, 150 SciFact claims as
# queries) recall@10 vs exact was 0.86 at efConstruction 80 / efSearch 128, 0.955 at
# 200 / 256 and 0.983 at 200 / 512 (docs/benchmarks.md); PAPERFEED_HNSW_EF_SEARCH sets it.
HNSW_LINKS = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 256
# Rebuild the graph from scratch once this share of its entries is stale.
HNSW_STALE_LIMIT = 0.2
_COMPARE_BLOCK = 65536


class DenseIndex(Protocol):
    """What search needs from a dense index (an in-process one here; others, e.g. a
    database-backed one, can implement the same)."""

    model: str

    @property
    def dimension(self) -> int: ...

    def __len__(self) -> int: ...

    def vector_of(self, key: int) -> NDArray[np.float32] | None: ...

    def search(
        self,
        query: NDArray[np.float32],
        limit: int,
        allowed: NDArray[np.bool_] | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]: ...


@dataclass
class VectorIndex:
    """Vectors of one embedding model, addressed by paper key."""

    model: str
    keys: NDArray[np.int64]
    vectors: NDArray[np.float32]
    hnsw: Any = None
    # paper key of each HNSW entry, in insertion order; -1 for a stale entry
    hnsw_keys: NDArray[np.int64] | None = None
    hnsw_added: int = 0  # entries the last build added to a reused graph
    ef_search: int = HNSW_EF_SEARCH
    # exact searches shortlist from a float16 copy (see paperfeed.index.half_precision);
    # never passed in, so an index made from another (``dataclasses.replace``) has its own
    half_scan: LazyHalfPrecisionScan = field(
        default_factory=LazyHalfPrecisionScan, init=False, repr=False, compare=False
    )

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def build(
        cls,
        model: str,
        keys: NDArray[np.int64],
        vectors: NDArray[np.float32],
        exact_limit: int,
        previous: VectorIndex | None = None,
    ) -> VectorIndex:
        """Index ``vectors``; HNSW only when there are more than ``exact_limit``.

        With ``previous`` (the index as last saved) its HNSW graph is reused: only vectors
        that are new, or differ from the graph's, are added to it.
        """
        order = np.argsort(keys, kind="stable")
        keys, vectors = keys[order], np.ascontiguousarray(vectors[order], dtype=np.float32)
        index = cls(model, keys, vectors)
        if len(keys) <= exact_limit:
            return index
        reusable = previous is not None and previous.model == model and previous.hnsw is not None
        if reusable and index._grow(previous):  # type: ignore[arg-type]
            return index
        index.hnsw = _build_hnsw(vectors)
        index.hnsw_keys = keys.copy()
        return index

    def _grow(self, previous: VectorIndex) -> bool:
        """Take over ``previous``'s graph, adding what changed; False if a rebuild is due."""
        old_keys = previous.hnsw_keys if previous.hnsw_keys is not None else previous.keys
        if previous.dimension != self.dimension or len(old_keys) != previous.hnsw.ntotal:
            return False
        entry_keys = np.array(old_keys, dtype=np.int64)
        # an entry is current when its key is still here with the very same vector
        live = np.flatnonzero(entry_keys >= 0)
        positions = np.minimum(np.searchsorted(self.keys, entry_keys[live]), len(self.keys) - 1)
        present = self.keys[positions] == entry_keys[live]
        old_rows = np.minimum(
            np.searchsorted(previous.keys, entry_keys[live]), max(len(previous.keys) - 1, 0)
        )
        if len(previous.keys) == 0:
            return False
        present &= previous.keys[old_rows] == entry_keys[live]
        same = np.zeros(len(live), np.bool_)
        for start in range(0, len(live), _COMPARE_BLOCK):  # previous.vectors is memory-mapped
            chosen = start + np.flatnonzero(present[start : start + _COMPARE_BLOCK])
            old = np.asarray(previous.vectors[old_rows[chosen]])
            same[chosen] = np.all(old == self.vectors[positions[chosen]], axis=1)
        entry_keys[live[~same]] = -1
        covered = np.zeros(len(self.keys), np.bool_)
        covered[positions[same]] = True
        missing = np.flatnonzero(~covered)
        stale = int((entry_keys < 0).sum())
        if stale > HNSW_STALE_LIMIT * (len(entry_keys) + len(missing)):
            return False
        if len(missing):
            previous.hnsw.add(self.vectors[missing])
        self.hnsw = previous.hnsw
        self.hnsw_keys = np.concatenate([entry_keys, self.keys[missing]])
        self.hnsw_added = len(missing)
        return True

    def vectors_of(self, keys: NDArray[np.int64]) -> NDArray[np.float32]:
        """The vectors of ``keys`` as rows, NaN rows for keys without one."""
        if len(self.keys) == 0 or len(keys) == 0:
            return np.full((len(keys), self.dimension), np.nan, np.float32)
        positions, present = find_sorted(self.keys, keys)
        # one gather, then NaN over the (rare) keys without a vector: filling a NaN matrix
        # and scattering the found rows into it wrote every row twice (~0.5 vs ~0.28 ms
        # for a query's ~1,100 candidates)
        rows = np.take(self.vectors, positions, axis=0).astype(np.float32, copy=False)
        if not present.all():
            rows[~present] = np.nan
        return rows

    def vector_of(self, key: int) -> NDArray[np.float32] | None:
        position = int(np.searchsorted(self.keys, key))
        if position < len(self.keys) and self.keys[position] == key:
            return np.asarray(self.vectors[position])
        return None

    def search(
        self,
        query: NDArray[np.float32],
        limit: int,
        allowed: NDArray[np.bool_] | None = None,
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Keys and cosine scores of the ``limit`` nearest vectors, best first.

        ``allowed`` is a mask over paper keys (index = key); keys outside it are skipped.
        """
        if len(self.keys) == 0 or limit <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if self.hnsw is not None:
            found = self._search_hnsw(query, limit, allowed)
            if found is not None:
                return found
        return self._search_exact(query, limit, allowed)

    def _allowed_rows(self, allowed: NDArray[np.bool_]) -> NDArray[np.bool_]:
        inside = self.keys < len(allowed)
        rows = np.zeros(len(self.keys), np.bool_)
        rows[inside] = allowed[self.keys[inside]]
        return rows

    def _search_exact(
        self, query: NDArray[np.float32], limit: int, allowed: NDArray[np.bool_] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        allowed_rows = self._allowed_rows(allowed) if allowed is not None else None
        found = self._search_shortlisted(query, limit, allowed_rows)
        if found is not None:
            return found
        if allowed_rows is not None:
            rows = np.flatnonzero(allowed_rows)
            scores = inner_products(self.vectors[rows], query)
        else:
            rows = None
            scores = inner_products(self.vectors, query)
        limit = min(limit, len(scores))
        if limit == 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        best = np.argpartition(-scores, limit - 1)[:limit]
        best = best[np.argsort(-scores[best], kind="stable")]
        positions = best if rows is None else rows[best]
        return self.keys[positions], scores[best].astype(np.float32)

    def _search_shortlisted(
        self, query: NDArray[np.float32], limit: int, allowed_rows: NDArray[np.bool_] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]] | None:
        """The exact answer from a float16 shortlist scored in float32, or None when there
        is no copy yet or its bound cannot prove the shortlist holds the answer."""
        if self.hnsw is not None:
            return None  # too large to copy; its exact searches are the rare filtered ones
        if allowed_rows is not None and int(allowed_rows.sum()) < MIN_ROWS:
            return None  # the exact scan copies the allowed rows: this few stay in the caches
        scan = self.half_scan.get(self.vectors)
        if scan is None:
            return None
        count = shortlist_size(limit, len(self.keys))
        positions, lowest = scan.shortlist(query, count, allowed_rows)
        # in row order, so that equal scores come out in key order (keys ascend with rows)
        positions = np.sort(positions)
        scores = inner_products(self.vectors[positions], query)
        order = np.argsort(-scores, kind="stable")[: min(limit, len(positions))]
        if not len(order):
            return np.empty(0, np.int64), np.empty(0, np.float32)
        every_row_taken = len(positions) < count or count == len(self.keys)
        if not every_row_taken and scores[order[-1]] <= lowest + scan.error_bound(query):
            return None
        return self.keys[positions[order]], scores[order].astype(np.float32)

    def _search_hnsw(
        self, query: NDArray[np.float32], limit: int, allowed: NDArray[np.bool_] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]] | None:
        """Approximate search; None when a filter leaves too few hits (caller goes exact)."""
        entry_keys = self.hnsw_keys if self.hnsw_keys is not None else self.keys
        stale = max(len(entry_keys) - len(self.keys), 0)  # at least this many entries are -1
        wanted = (limit if allowed is None else limit * 8) + min(stale, 4 * limit)
        self.hnsw.hnsw.efSearch = max(self.ef_search, wanted)
        scores, ids = self.hnsw.search(query.reshape(1, -1), min(wanted, len(entry_keys)))
        ids, scores = ids[0], scores[0]
        valid = ids >= 0
        keys, scores = entry_keys[ids[valid]], scores[valid]
        current = keys >= 0
        keys, scores = keys[current], scores[current]
        if allowed is not None:
            keep = np.zeros(len(keys), np.bool_)
            inside = keys < len(allowed)
            keep[inside] = allowed[keys[inside]]
            keys, scores = keys[keep], scores[keep]
        if len(keys) < min(limit, len(self.keys)):
            return None
        return keys[:limit].astype(np.int64), scores[:limit].astype(np.float32)

    def save(self, folder: Path) -> None:
        """Write the index to ``folder`` (replacing what was there) atomically per file."""
        folder.mkdir(parents=True, exist_ok=True)
        _save_array(folder / "keys.npy", self.keys)
        _save_array(folder / "vectors.npy", self.vectors)
        hnsw_path = folder / "hnsw.faiss"
        if self.hnsw is not None:
            import faiss

            faiss.write_index(self.hnsw, str(hnsw_path) + ".tmp")
            os.replace(str(hnsw_path) + ".tmp", hnsw_path)
            entry_keys = self.hnsw_keys if self.hnsw_keys is not None else self.keys
            _save_array(folder / "hnsw_keys.npy", entry_keys)
        else:
            hnsw_path.unlink(missing_ok=True)
            (folder / "hnsw_keys.npy").unlink(missing_ok=True)
        manifest = {"model": self.model, "count": len(self.keys), "dimension": self.dimension}
        staging = folder / "manifest.tmp"
        staging.write_text(json.dumps(manifest, indent=1))
        os.replace(staging, folder / "manifest.json")

    @classmethod
    def load(cls, folder: Path, ef_search: int = HNSW_EF_SEARCH) -> VectorIndex | None:
        """The saved index in ``folder``, or None if there is none."""
        manifest_path = folder / "manifest.json"
        if not manifest_path.exists():
            return None
        manifest = json.loads(manifest_path.read_text())
        keys = np.load(folder / "keys.npy")
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        hnsw = None
        hnsw_keys = None
        if (folder / "hnsw.faiss").exists():
            import faiss

            hnsw = faiss.read_index(str(folder / "hnsw.faiss"))
            hnsw_keys = (
                np.load(folder / "hnsw_keys.npy")
                if (folder / "hnsw_keys.npy").exists()
                else keys  # written before hnsw_keys.npy existed: entry i is keys[i]
            )
            if len(hnsw_keys) != hnsw.ntotal:
                hnsw, hnsw_keys = None, None  # torn write: exact search until the next index
        if len(keys) != len(vectors) or len(keys) != manifest["count"]:
            return None  # torn write: the next `paperfeed index` rebuilds it
        index = cls(manifest["model"], keys, np.asarray(vectors), hnsw, hnsw_keys)
        index.ef_search = ef_search
        return index


@functools.cache
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def inner_products(matrix: NDArray[np.float32], query: NDArray[np.float32]) -> NDArray[Any]:
    """``matrix @ query`` on one BLAS thread. One query is a matrix-vector product, which
    OpenBLAS splits over every core: on 2 cores that took 7x the CPU time of one thread
    (4 ms vs 0.55 ms for 9,877 x 384), and while other work holds the cores the threads
    wait on each other (28 ms vs 2.5 ms of wall time). A server's workers are the
    parallelism; one scan needs one core."""
    with _blas().limit(limits=1, user_api="blas"):
        return matrix @ query


def _build_hnsw(vectors: NDArray[np.float32]) -> Any:
    import faiss

    index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(vectors)
    return index


def _save_array(path: Path, array: NDArray[Any]) -> None:
    staging = path.with_name(path.name + ".tmp")
    with open(staging, "wb") as handle:
        np.save(handle, np.asarray(array))
    os.replace(staging, path)
