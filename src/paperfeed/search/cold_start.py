"""Seeding "For you" for a new user, before any upvote: three ways in.

1. **Their library**: a BibTeX/RIS file (a Zotero export). Entries matched to stored
   papers (``collections.importing.match_references``) become positives; the others,
   when they have a title, are embedded from their title and abstract by the site's
   model and kept as extra positive vectors (``store.feedback.seed_vectors``).
2. **Their own papers**: "these are my papers" on an author page makes every paper of
   that author a positive.
3. **A few picks** from a page of diverse recent papers: farthest-point sampling
   (T. Gonzalez, "Clustering to minimize the maximum intercluster distance", 1985) over
   the vectors of the recommendation window, so the page spans the month's topics rather
   than repeating its largest one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from paperfeed.collections.importing import (
    match_references,
    parse_references,
    read_import_text,
)
from paperfeed.index.embedder import embedding_text, load_configured_embedder
from paperfeed.ingest import clean_text, normalize_paper_id, quoted
from paperfeed.models import StoredPaper
from paperfeed.search.engine import SearchEngine
from paperfeed.search.recommending import WINDOW_DAYS, window_of
from paperfeed.search.window_vectors import vectors_within
from paperfeed.store import Store
from paperfeed.store.accounts import User
from paperfeed.store.feedback import (
    AUTHORED,
    IMPORTED,
    PICKED,
    add_seed_papers,
    add_seed_vectors,
)
from paperfeed.store.people import papers_by_author

START_PICKS = 12  # papers on the "pick a few" page
MAX_PICKS = 50
_SAMPLED_FROM = 5000  # farthest-point sampling over at most this many window papers


@dataclass
class LibraryReport:
    """What seeding from a library file did with each entry."""

    format: str
    matched: list[tuple[str, str]] = field(default_factory=list)  # (label, paper id)
    embedded: list[str] = field(default_factory=list)  # labels kept as vectors
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (label, reason)


def seed_from_library(
    engine: SearchEngine, user: User, content: bytes | str, format: str = "auto"
) -> LibraryReport:
    """Seed the user's model from a BibTeX or RIS file.

    Raises:
        ImportFileError: the file is too big, not UTF-8, or not BibTeX/RIS.
        EmbedderError: the model cannot be loaded (unmatched entries need it).
    """
    store = engine.store
    chosen, references, failed = parse_references(read_import_text(content), format)
    keys = match_references(store, references)
    papers = store.get_papers([key for key in keys if key is not None])
    report = LibraryReport(chosen)
    matched: list[int] = []
    unmatched = []
    for reference, key in zip(references, keys, strict=True):
        if key is not None and key in papers:
            matched.append(key)
            report.matched.append((reference.label, papers[key].arxiv_id))
        elif reference.title.strip():
            unmatched.append(reference)
        else:
            report.skipped.append((reference.label, "no title to read it by"))
    add_seed_papers(store, user.id, matched, IMPORTED)
    if unmatched:
        embedder = load_configured_embedder(engine.settings)
        titles = [clean_text(reference.title) for reference in unmatched]
        vectors = embedder.embed(
            [
                embedding_text(title, clean_text(reference.abstract))
                for title, reference in zip(titles, unmatched, strict=True)
            ]
        )
        add_seed_vectors(store, user.id, embedder.name, titles, vectors)
        report.embedded = [reference.label for reference in unmatched]
    report.skipped.extend(failed)
    return report


def claim_author_papers(store: Store, user: User, name: str) -> int:
    """ "These are my papers": every paper of the author ``name`` becomes a positive.

    Returns:
        How many papers were new positives.

    Raises:
        LookupError: no stored paper has this author.
    """
    papers = papers_by_author(store, name)
    if not papers:
        raise LookupError(f"no author named {name!r} in this paperfeed")
    return add_seed_papers(store, user.id, [paper.key for paper in papers], AUTHORED)


def pick_papers(store: Store, user: User, arxiv_ids: Sequence[str]) -> int:
    """Make the picked papers positives. Returns how many were new.

    Raises:
        LookupError: an id names no stored paper; nothing is saved then.
        ValueError: none, or more than ``MAX_PICKS``, given.
    """
    if not arxiv_ids:
        raise ValueError("pick at least one paper")
    if len(arxiv_ids) > MAX_PICKS:
        raise ValueError(f"{len(arxiv_ids)} picks (at most {MAX_PICKS} at a time)")
    keys = []
    for arxiv_id in arxiv_ids:
        normalized = normalize_paper_id(arxiv_id)
        paper = store.get_paper(normalized) if normalized else None
        if paper is None:
            raise LookupError(f"no paper {quoted(arxiv_id)} in this paperfeed")
        keys.append(paper.key)
    return add_seed_papers(store, user.id, keys, PICKED)


def diverse_recent(
    engine: SearchEngine, count: int = START_PICKS, days: int = WINDOW_DAYS
) -> list[StoredPaper]:
    """``count`` papers of the last ``days`` days spread over the window's topics: the one
    nearest the window's centroid, then each time the paper farthest from those chosen."""
    window = window_of(engine.dates, days)
    vectors = vectors_within(engine, window)
    if vectors is None or len(vectors) == 0 or window is None:
        return []
    keys = vectors.keys
    key_dates = np.zeros(len(keys), np.int64)
    inside = keys < len(engine.dates)
    key_dates[inside] = engine.dates[keys[inside]]
    visible = ~np.isin(keys, np.fromiter(engine.hidden_keys, np.int64))  # not moderated away
    rows = np.flatnonzero((key_dates >= window[0]) & (key_dates <= window[1]) & visible)
    if len(rows) == 0:
        return []
    if len(rows) > _SAMPLED_FROM:  # the newest ones: a fixed, repeatable sample
        rows = rows[np.argsort(-key_dates[rows], kind="stable")[:_SAMPLED_FROM]]
    matrix = np.asarray(vectors.vectors[rows], np.float64)
    centroid = matrix.mean(axis=0)
    chosen = [int(np.argmax(matrix @ centroid))]
    nearest = matrix @ matrix[chosen[0]]  # highest cosine to any chosen paper
    while len(chosen) < min(count, len(rows)):
        nearest[chosen] = np.inf
        pick = int(np.argmin(nearest))
        chosen.append(pick)
        nearest = np.maximum(nearest, matrix @ matrix[pick])
    papers = engine.store.get_papers([int(keys[rows[index]]) for index in chosen])
    return [papers[int(keys[rows[index]])] for index in chosen if int(keys[rows[index]]) in papers]
