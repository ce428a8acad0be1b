"""BM25F lexical index kept as append-only segments of ``.npy`` postings.

Scoring is the simple BM25F of Robertson & Zaragoza, "The Probabilistic Relevance
Framework: BM25 and Beyond" (2009), section 3.7:

    tf~(t, d) = sum_f  w_f * tf_f(t, d) / (1 - b + b * len_f(d) / avglen_f)
    score(d)  = sum_t  idf(t) * tf~(t, d) / (k1 + tf~(t, d))
    idf(t)    = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))        (Lucene's idf)

With one field of weight 1 this is exactly Okapi BM25. ``tf~`` of the default
fields is computed when a segment is built (with the average lengths of that
moment) so a free-text query term costs one posting-list read; field-restricted
terms (``ti:``, ``au:``) are normalised at query time from the per-field postings.
An update adds a segment and marks older copies of the re-indexed papers dead, so
a daily increment never rewrites the index.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from paperfeed.index.lexical_files import (
    FILTER_FIELD_SOURCES,
    next_generation,
    read_segment,
    remove_leftovers,
    remove_old_generations,
    write_json_atomically,
    write_segment,
)
from paperfeed.index.lexical_types import FIELDS as FIELDS
from paperfeed.index.lexical_types import FORMAT_VERSION as FORMAT_VERSION
from paperfeed.index.lexical_types import Document as Document
from paperfeed.index.lexical_types import Postings as Postings
from paperfeed.index.lexical_types import QueryTerm as QueryTerm
from paperfeed.index.lexical_types import Segment as Segment
from paperfeed.index.postings import best as best
from paperfeed.index.postings import count_postings, empty_postings, live_postings
from paperfeed.index.term_sequences import TermSequences


@dataclass
class LexicalIndex:
    """Segments plus the shared vocabulary and statistics."""

    field_weights: dict[str, float]
    k1: float = 1.2
    b: float = 0.75
    terms: list[str] = field(default_factory=list)
    vocabulary: dict[str, int] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    length_totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    indexed_documents: int = 0
    # the store's change sequence the index has caught up with, written in the same
    # manifest switch as the segments so the two never disagree after a crash
    last_sequence: int | None = None
    _offsets: NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))
    _keys: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    _live: NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, np.bool_))
    _by_offset: dict[int, tuple[Segment, bool]] = field(default_factory=dict)
    # global position of each live key (index = key), -1 for keys not live here
    _position_of_key: NDArray[np.int32] = field(default_factory=lambda: np.empty(0, np.int32))
    # kept from the last refresh: at ~1M papers a sum or mask over ``_live`` costs ~0.1-1
    # ms, and a query asked for the live count once per term
    _live_keys: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    _all_live: bool = True

    # -- building --------------------------------------------------------------

    def add_documents(self, documents: Sequence[Document], name: str) -> None:
        """Index ``documents`` as a new segment; older copies of the same keys go dead."""
        if not documents:
            return
        keys = np.array([document.key for document in documents], dtype=np.int64)
        self._mark_dead(keys)
        count = len(documents)
        lengths: dict[str, NDArray[np.int32]] = {}
        postings: dict[str, Postings] = {}
        in_order: dict[str, NDArray[np.int64]] = {}
        for field_name in FIELDS:
            term_ids: list[int] = []
            doc_ids: list[int] = []
            field_lengths = np.zeros(count, np.int32)
            for position, document in enumerate(documents):
                # a filter-only field not given: the field it refines
                tokens = document.tokens.get(
                    field_name, document.tokens.get(FILTER_FIELD_SOURCES.get(field_name, ""), [])
                )
                field_lengths[position] = len(tokens)
                # known terms by C-level lookups; only new ones go through ``_term_id``
                ids = list(map(self.vocabulary.get, tokens))
                if None in ids:
                    ids = [
                        known if known is not None else self._term_id(token)
                        for known, token in zip(ids, tokens, strict=True)
                    ]
                term_ids.extend(ids)  # type: ignore[arg-type]
                doc_ids.extend([position] * len(tokens))
            lengths[field_name] = field_lengths
            self.length_totals[field_name] += int(field_lengths.sum())
            in_order[field_name] = np.array(term_ids, np.int64)
            postings[field_name] = count_postings(
                in_order[field_name], np.array(doc_ids, np.int64), count, len(self.terms)
            )
        self.indexed_documents += count
        combined = self._combine_fields(postings, lengths, count)
        sequences = TermSequences.from_fields(
            in_order["title"], lengths["title"], in_order["abstract"], lengths["abstract"]
        )
        self.segments.append(
            Segment(
                name, keys, np.ones(count, np.bool_), lengths, postings, combined, None, sequences
            )
        )
        self._refresh_global_arrays()

    def merge_segments(self, name: str) -> None:
        """Rewrite all segments as one, dropping dead documents (keeps queries fast
        after many daily updates; tf~ is recomputed with today's average lengths)."""
        if len(self.segments) < 2:
            return
        live_keys = self._keys[self._live]
        vocabulary_size = len(self.terms)
        lengths = {
            field_name: np.concatenate(
                [segment.lengths[field_name][segment.live] for segment in self.segments]
            )
            for field_name in FIELDS
        }
        fields: dict[str, Postings] = {}
        for field_name in FIELDS:
            fields[field_name] = live_postings(
                [(segment.live, segment.fields[field_name]) for segment in self.segments],
                vocabulary_size,
            )
        combined = self._combine_fields(fields, lengths, len(live_keys))
        sequences = None
        if all(segment.sequences is not None for segment in self.segments):
            sequences = TermSequences.concatenate(
                [
                    segment.sequences.rows(np.flatnonzero(segment.live))
                    for segment in self.segments
                    if segment.sequences is not None
                ]
            )
        self.segments = [
            Segment(
                name,
                live_keys,
                np.ones(len(live_keys), np.bool_),
                lengths,
                fields,
                combined,
                None,
                sequences,
            )
        ]
        self.indexed_documents = len(live_keys)
        self.length_totals = {name: int(lengths[name].sum()) for name in FIELDS}
        self._refresh_global_arrays()

    def _term_id(self, term: str) -> int:
        term_id = self.vocabulary.get(term)
        if term_id is None:
            term_id = self.vocabulary[term] = len(self.terms)
            self.terms.append(term)
        return term_id

    def average_length(self, field_name: str) -> float:
        return max(self.length_totals[field_name] / max(self.indexed_documents, 1), 1e-9)

    def _length_norm(self, lengths: NDArray[np.int32], field_name: str) -> NDArray[np.float32]:
        return (1.0 - self.b + self.b * lengths / self.average_length(field_name)).astype(
            np.float32
        )

    def _combine_fields(
        self, postings: dict[str, Postings], lengths: dict[str, NDArray[np.int32]], count: int
    ) -> Postings:
        """tf~ of every (term, doc) over the weighted fields, as one posting matrix."""
        term_parts: list[NDArray[np.int64]] = []
        doc_parts: list[NDArray[np.int64]] = []
        value_parts: list[NDArray[np.float32]] = []
        for field_name, weight in self.field_weights.items():
            if weight <= 0:
                continue
            matrix = postings[field_name]
            norm = self._length_norm(lengths[field_name], field_name)
            term_parts.append(np.repeat(np.arange(len(matrix.indptr) - 1), np.diff(matrix.indptr)))
            doc_parts.append(matrix.docs.astype(np.int64))
            value_parts.append(weight * matrix.values / norm[matrix.docs])
        vocabulary_size = len(self.terms)
        if not term_parts:
            return empty_postings(vocabulary_size)
        codes = np.concatenate(term_parts) * count + np.concatenate(doc_parts)
        unique, inverse = np.unique(codes, return_inverse=True)
        values = np.bincount(inverse, weights=np.concatenate(value_parts)).astype(np.float32)
        term_of = unique // count
        indptr = np.zeros(vocabulary_size + 1, np.int64)
        np.cumsum(np.bincount(term_of, minlength=vocabulary_size), out=indptr[1:])
        return Postings(indptr, (unique % count).astype(np.int32), values)

    def _mark_dead(self, keys: NDArray[np.int64]) -> None:
        for segment in self.segments:
            segment.live &= ~np.isin(segment.keys, keys)

    def _refresh_global_arrays(self) -> None:
        sizes = [len(segment.keys) for segment in self.segments]
        self._offsets = np.zeros(len(sizes) + 1, np.int64)
        np.cumsum(sizes, out=self._offsets[1:])
        self._keys = (
            np.concatenate([segment.keys for segment in self.segments])
            if self.segments
            else np.empty(0, np.int64)
        )
        self._live = (
            np.concatenate([segment.live for segment in self.segments])
            if self.segments
            else np.empty(0, np.bool_)
        )
        self._by_offset = {
            int(offset): (segment, bool(segment.live.all()))
            for offset, segment in zip(self._offsets, self.segments, strict=False)
        }
        live_positions = np.flatnonzero(self._live)
        live_keys = self._keys[live_positions]
        self._position_of_key = np.full(int(live_keys.max(initial=-1)) + 1, -1, np.int32)
        self._position_of_key[live_keys] = live_positions
        live_keys.flags.writeable = False  # shared by every caller of live_keys()
        self._live_keys = live_keys
        self._all_live = len(live_keys) == len(self._keys)

    # -- querying --------------------------------------------------------------

    @property
    def live_count(self) -> int:
        return len(self._live_keys)

    @property
    def key_span(self) -> int:
        """One more than the largest live key: the size of a mask over live paper keys."""
        return len(self._position_of_key)

    @property
    def segment_offsets(self) -> NDArray[np.int64]:
        """Each segment's first global position, then the number of positions."""
        return self._offsets

    def segment_at(self, offset: int) -> tuple[Segment, bool]:
        """The segment starting at global position ``offset``, and whether all of it is live."""
        return self._by_offset[offset]

    def _term_postings(
        self, term_id: int, field_name: str | None
    ) -> list[tuple[int, NDArray[np.int32], NDArray[np.float32]]]:
        """(segment offset, docs, tf~) of one term, over the default fields or one field."""
        found = []
        for index, segment in enumerate(self.segments):
            if field_name is None:
                docs, values = segment.combined.slice(term_id)
            else:
                docs, raw = segment.fields[field_name].slice(term_id)
                norm = self._length_norm(segment.lengths[field_name][docs], field_name)
                values = (max(self.field_weights.get(field_name, 1.0), 1e-3) * raw / norm).astype(
                    np.float32
                )
            if len(docs):
                found.append((int(self._offsets[index]), docs, values))
        return found

    def query_terms(self, terms: Sequence[tuple[str, str | None]]) -> list[QueryTerm]:
        """The matching ``(term, field or None)`` pairs with their postings and idf, rarest
        first (ties: query order). Scores are summed in this order by :meth:`score` and by
        the pruned top-k (index/lexical_topk.py), so both give bit-identical float32 sums."""
        found = []
        total = max(self.live_count, 1)
        for term, field_name in dict.fromkeys(terms):
            term_id = self.vocabulary.get(term)
            if term_id is None:
                continue
            parts = self._term_postings(term_id, field_name)
            frequency = 0
            for offset, docs, _ in parts:
                all_live = self._by_offset[offset][1]
                frequency += len(docs) if all_live else int(self._live[offset + docs].sum())
            if frequency == 0:
                continue
            idf = math.log(1.0 + (total - frequency + 0.5) / (frequency + 0.5))
            found.append(QueryTerm(term_id, field_name, frequency, idf, parts))
        found.sort(key=lambda query_term: query_term.frequency)  # stable: ties keep order
        return found

    def contributions(self, idf: float, values: NDArray[np.float32]) -> NDArray[np.float32]:
        """A term's BM25 part ``idf * tf~ / (k1 + tf~)`` for each of its tf~ values."""
        result: NDArray[np.float32] = idf * values / (self.k1 + values)
        return result

    def score(self, terms: Sequence[tuple[str, str | None]]) -> NDArray[np.float32]:
        """BM25F score of every document (dead ones 0) for ``(term, field or None)`` pairs."""
        return self.score_query_terms(self.query_terms(terms))

    def score_query_terms(self, query_terms: Sequence[QueryTerm]) -> NDArray[np.float32]:
        """BM25F score of every document (dead ones 0) for terms :meth:`query_terms` found
        (a search reuses them for its coverage feature)."""
        scores = np.zeros(len(self._keys), np.float32)
        for query_term in query_terms:
            for offset, docs, values in query_term.parts:
                scores[offset + docs] += self.contributions(query_term.idf, values)
        if not self._all_live:
            scores *= self._live
        return scores

    def top(
        self, scores: NDArray[np.float32], limit: int, allowed: NDArray[np.bool_] | None = None
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Keys and scores of the best ``limit`` positive scores, best first (equal scores:
        the lower index position first, so the answer never depends on the algorithm).

        ``allowed`` is a mask over paper keys (index = key) from the filters.
        """
        candidates = self._positive(scores, allowed)
        candidates, best_scores = best(candidates, scores[candidates], limit)
        return self._keys[candidates], best_scores

    def positive_keys(
        self, scores: NDArray[np.float32], allowed: NDArray[np.bool_] | None = None
    ) -> NDArray[np.int64]:
        """The keys of the papers ``top`` could return at any depth, in index order."""
        return self._keys[self._positive(scores, allowed)].astype(np.int64)

    def _positive(
        self, scores: NDArray[np.float32], allowed: NDArray[np.bool_] | None
    ) -> NDArray[np.int64]:
        candidates = np.flatnonzero(scores > 0)
        if allowed is not None and len(candidates):
            keys = self._keys[candidates]
            inside = keys < len(allowed)
            candidates = candidates[inside][allowed[keys[inside]]]
        return candidates

    def keys_with(self, term: str, field_name: str | None = None) -> NDArray[np.int64]:
        """Keys of live papers containing ``term`` (in ``field_name``, or any default field)."""
        term_id = self.vocabulary.get(term)
        if term_id is None:
            return np.empty(0, np.int64)
        # the combined postings hold each (term, doc) of the default fields once, and a
        # live key is in one segment only: the keys are distinct without np.unique
        found = [
            self._keys[offset + docs][self._live[offset + docs]]
            for offset, docs, _ in self._term_postings(term_id, field_name)
        ]
        return np.concatenate(found) if found else np.empty(0, np.int64)

    def live_keys(self) -> NDArray[np.int64]:
        """The live papers' keys in index order (read-only: one array shared by callers)."""
        return self._live_keys

    def segment_spans(self, sorted_positions: NDArray[np.int64]) -> dict[int, tuple[int, int]]:
        """For each segment's offset, the slice ``[start, end)`` of ``sorted_positions``
        (ascending global positions; -1s first are in no segment) that falls inside it."""
        edges = np.searchsorted(sorted_positions, self._offsets).tolist()
        return {
            int(offset): (edges[index], edges[index + 1])
            for index, offset in enumerate(self._offsets[:-1].tolist())
        }

    def positions_of(self, keys: NDArray[np.int64]) -> NDArray[np.int64]:
        """The global position of each of ``keys`` (as in :meth:`score`'s array), -1 for a
        key that is not a live paper of the index."""
        table = self._position_of_key
        inside = (keys >= 0) & (keys < len(table))
        positions = np.full(len(keys), -1, np.int64)
        positions[inside] = table[keys[inside]]
        return positions

    @property
    def has_sequences(self) -> bool:
        return all(segment.sequences is not None for segment in self.segments)

    # -- persistence -----------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write new segments and a new manifest; the manifest switch is atomic."""
        folder.mkdir(parents=True, exist_ok=True)
        generation = next_generation(folder)
        for segment in self.segments:
            write_segment(folder, segment, generation)
        (folder / f"vocabulary.{generation}.json").write_text(json.dumps(self.terms))
        manifest = {
            "format_version": FORMAT_VERSION,
            "generation": generation,
            "k1": self.k1,
            "b": self.b,
            "field_weights": self.field_weights,
            "length_totals": self.length_totals,
            "indexed_documents": self.indexed_documents,
            "segments": [segment.name for segment in self.segments],
            "last_sequence": self.last_sequence,
        }
        write_json_atomically(folder / "manifest.json", manifest)
        remove_old_generations(folder, generation)
        remove_leftovers(folder)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """The index as its manifest describes it. A writer may switch the manifest and
        remove the segments it replaced while this reads; then it reads the new one."""
        for attempt in range(3):
            try:
                return cls._load(folder)
            except FileNotFoundError:
                if attempt == 2 or not (folder / "manifest.json").exists():
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _load(cls, folder: Path) -> LexicalIndex:
        manifest = json.loads((folder / "manifest.json").read_text())
        generation = manifest["generation"]
        terms = json.loads((folder / f"vocabulary.{generation}.json").read_text())
        index = cls(
            field_weights=manifest["field_weights"],
            k1=manifest["k1"],
            b=manifest["b"],
            terms=terms,
            vocabulary={term: position for position, term in enumerate(terms)},
            length_totals=manifest["length_totals"],
            indexed_documents=manifest["indexed_documents"],
            last_sequence=manifest.get("last_sequence"),
        )
        for field_name, source in FILTER_FIELD_SOURCES.items():  # a manifest of format 2
            index.length_totals.setdefault(field_name, index.length_totals.get(source, 0))
        for name in manifest["segments"]:
            index.segments.append(read_segment(folder, name, generation))
        index._refresh_global_arrays()
        return index
