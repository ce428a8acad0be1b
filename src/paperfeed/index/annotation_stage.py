"""The index's annotation stage: keywords and a TL;DR for every paper without fresh ones.

It runs before the lexical stage, so a paper's keywords are indexed with it (into the
title field: a keyword match counts like a title word). Document frequencies come from
the papers annotated together when they are many (a first index, a daily sync), else
from the lexical index, so a one-paper update scores its words against the corpus.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from paperfeed.index.annotations import (
    DocumentFrequency,
    annotate,
    batch_frequencies,
)
from paperfeed.index.lexical import LexicalIndex
from paperfeed.progress import progress_bar
from paperfeed.store import Store
from paperfeed.store.annotations import (
    AnnotationRow,
    AnnotationTask,
    count_papers_to_annotate,
    papers_to_annotate,
    save_annotations,
)

ANNOTATE_CHUNK = 2000
# Fewer pending papers than this take their word statistics from the lexical index.
MIN_BATCH_FOR_OWN_FREQUENCIES = 500


def index_frequencies(lexical_folder: Path) -> DocumentFrequency | None:
    """Document frequencies of stems in the abstracts the lexical index holds."""
    if not (lexical_folder / "manifest.json").exists():
        return None
    lexical = LexicalIndex.load(lexical_folder)
    documents = lexical.live_count
    if documents == 0:
        return None

    @functools.cache
    def frequency(term: str) -> tuple[int, int]:
        return len(lexical.keys_with(term, "abstract")), documents

    return frequency


def _texts(tasks: Sequence[AnnotationTask]) -> list[str]:
    return [f"{task.title} {task.abstract}" for task in tasks]


def annotate_pending(store: Store, lexical_folder: Path, show_progress: bool = True) -> int:
    """Annotate every paper whose keywords and TL;DR are missing or stale. Returns how many."""
    pending = count_papers_to_annotate(store)
    if pending == 0:
        return 0
    frequency: DocumentFrequency | None = None
    if pending < MIN_BATCH_FOR_OWN_FREQUENCIES:
        frequency = index_frequencies(lexical_folder)
    done, last_key = 0, 0
    with progress_bar("keywords and TL;DRs", pending, enabled=show_progress) as progress:
        while True:
            tasks = papers_to_annotate(store, ANNOTATE_CHUNK, last_key)
            if not tasks:
                break
            chunk_frequency = frequency or batch_frequencies(_texts(tasks))
            rows = []
            for task in tasks:
                made = annotate(task.title, task.abstract, chunk_frequency)
                rows.append(AnnotationRow(task.key, task.content_hash, made.keywords, made.tldr))
            save_annotations(store, rows)
            last_key = tasks[-1].key
            done += len(tasks)
            progress.update(len(tasks))
    return done
