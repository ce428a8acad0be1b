"""CPU time of a dense search's exact scan: every float32 vector, or a float16 shortlist.

Loads the in-process vector index of $PAPERFEED_HOME (else http_load.py's home) and times
``VectorIndex.search`` as a search request runs it (100 nearest, ``DENSE_DEPTH``), two
ways in alternating chunks of the same queries, one process and one thread: the exact
scan of every float32 vector (numpy, one BLAS thread), and the float16 shortlist of
``paperfeed.index.half_precision`` scored exactly. The queries are http_load.py's
distinct search texts, embedded by the home's model, and papers' own vectors (what
"similar papers" asks), each with no filter and with filters that keep four papers in
five and one in five (a filter that keeps fewer than ``MIN_ROWS`` papers is left to the
exact scan, which then copies only those rows). It also counts the answers that differ
from the exact scan's beyond ties, and the searches whose bound failed (answered by the
exact scan).

Run:  python bench/dense_scan.py [--queries 300] [--rounds 6] [--rows 50000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

import numpy as np

import http_load  # this folder's: the home, its distinct queries, its _machine.py loader

if TYPE_CHECKING:
    from paperfeed.index.vectors import VectorIndex


def main() -> int:
    machine_module = http_load._machine_module()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300, help="queries of each kind")
    parser.add_argument("--rounds", type=int, default=6, help="alternating chunks per way")
    parser.add_argument("--limit", type=int, default=100, help="nearest vectors a search")
    parser.add_argument(
        "--rows",
        type=int,
        default=0,
        help="grow the index to this many vectors, each copy of a paper's vector moved by "
        "noise of norm ~0.3 and renormalised (how the scan scales up to "
        "PAPERFEED_EXACT_SEARCH_LIMIT, 50,000); 0: the home's vectors as they are",
    )
    machine_module.add_machine_arguments(parser)
    arguments = parser.parse_args()
    machine = machine_module.Machine.check(arguments)

    from paperfeed.config import Settings
    from paperfeed.index.embedder import load_embedder
    from paperfeed.index.half_precision import MIN_ROWS
    from paperfeed.index.vectors import VectorIndex

    os.environ.setdefault("PAPERFEED_HOME", str(http_load.HOME))
    settings = Settings.from_environment()
    index = VectorIndex.load(settings.index_dir / "dense")
    if index is None or index.hnsw is not None:
        print(f"no exact in-process index under {settings.index_dir / 'dense'}", file=sys.stderr)
        return 2
    generator = np.random.default_rng(23)
    if arguments.rows > len(index):
        index = _grown(index, arguments.rows, generator)
    _, texts, _ = http_load.prepare(arguments.queries)
    print(f"embedding {len(texts)} queries with {index.model} ...", file=sys.stderr)
    embedder = load_embedder(index.model, threads=1, for_queries=True)
    query_kinds = {
        "search texts": embedder.embed(list(texts[: arguments.queries])),
        "papers' vectors": np.asarray(
            index.vectors[generator.choice(len(index), arguments.queries, replace=False)]
        ),
    }
    filters: dict[str, np.ndarray | None] = {"no filter": None}
    for name, share in (("4 papers in 5", 0.8), ("1 paper in 5", 0.2)):
        mask = np.zeros(int(index.keys.max()) + 1, np.bool_)
        mask[generator.choice(index.keys, int(share * len(index)), replace=False)] = True
        filters[name] = mask

    exact = VectorIndex(index.model, index.keys, index.vectors)
    shortlisted = VectorIndex(index.model, index.keys, index.vectors)
    never_copied = exact.half_scan
    never_copied.get = lambda vectors: None  # type: ignore[method-assign]
    failures = [0]
    original = type(shortlisted)._search_shortlisted

    def counted(self: VectorIndex, *args: object) -> object:
        found = original(self, *args)  # type: ignore[arg-type]
        if found is None and self.half_scan.made:
            failures[0] += 1
        return found

    type(shortlisted)._search_shortlisted = counted  # type: ignore[method-assign]
    for _ in range(2):
        shortlisted.search(query_kinds["search texts"][0], arguments.limit)  # the copy made

    print(
        f"index: {len(index)} vectors x {index.dimension} ({index.model}); "
        f"{arguments.limit} nearest a search; {arguments.rounds} alternating chunks a way"
    )
    print(
        "| queries | filter | exact scan, CPU us | float16 shortlist, CPU us | ratio "
        "| answers unlike the exact scan's | bound failed |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for kind, queries in query_kinds.items():
        for filter_name, allowed in filters.items():
            spent = {"exact": 0.0, "shortlist": 0.0}
            chunks = np.array_split(np.arange(len(queries)), arguments.rounds)
            failures[0] = 0
            differing = 0
            for round_number, chunk in enumerate(chunks):
                ways = [("exact", exact), ("shortlist", shortlisted)]
                for name, chosen in ways if round_number % 2 == 0 else ways[::-1]:
                    started = time.thread_time()
                    for position in chunk:
                        chosen.search(queries[position], arguments.limit, allowed)
                    spent[name] += time.thread_time() - started
            for query in queries:
                expected = exact.search(query, arguments.limit, allowed)
                found = shortlisted.search(query, arguments.limit, allowed)
                differing += not _same_up_to_ties(expected, found)
            exact_us = 1e6 * spent["exact"] / len(queries)
            shortlist_us = 1e6 * spent["shortlist"] / len(queries)
            narrow = allowed is not None and int(allowed[index.keys].sum()) < MIN_ROWS
            # each query ran twice on the shortlisted index: timed, then checked
            failed = f"none tried (< {MIN_ROWS:,} kept)" if narrow else str(failures[0] // 2)
            print(
                f"| {kind} | {filter_name} | {exact_us:,.0f} | {shortlist_us:,.0f} | "
                f"{exact_us / shortlist_us:.2f}x | {differing} of {len(queries)} | {failed} |"
            )
    machine.report()
    return 0


def _grown(index: VectorIndex, rows: int, generator: np.random.Generator) -> VectorIndex:
    """``index`` with ``rows`` vectors: its own, then noisy copies of them under new keys."""
    from paperfeed.index.vectors import VectorIndex  # noqa: F811 (the runtime import)

    base = np.asarray(index.vectors)
    copies = base[generator.integers(0, len(base), rows - len(base))]
    noise = generator.normal(0, 0.3 / np.sqrt(base.shape[1]), copies.shape).astype(np.float32)
    copies = copies + noise
    copies /= np.linalg.norm(copies, axis=1, keepdims=True)
    keys = np.arange(rows, dtype=np.int64) + int(index.keys.max()) + 1
    keys[: len(base)] = index.keys
    vectors = np.concatenate([base, copies]).astype(np.float32)
    return VectorIndex.build(index.model, keys, vectors, exact_limit=rows)


def _same_up_to_ties(
    expected: tuple[np.ndarray, np.ndarray], found: tuple[np.ndarray, np.ndarray]
) -> bool:
    """The same papers, and the same score at every rank: any papers in other places
    scored the same (ties, in either order)."""
    return set(expected[0].tolist()) == set(found[0].tolist()) and np.allclose(
        expected[1], found[1], atol=1e-6
    )


if __name__ == "__main__":
    sys.exit(main())
