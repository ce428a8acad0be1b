"""Abstract snippets with the matched query terms marked."""

from __future__ import annotations

import html
import re
import threading
from array import array
from collections import OrderedDict
from itertools import accumulate, compress
from operator import sub
from typing import NamedTuple

import numpy as np

from paperfeed.index.tokenizer import (
    ASCII_WORD_PATTERN,
    STOP_WORDS,
    WORD_PATTERN,
    fold,
    stem,
    tokenize,
)

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def query_stems(words: list[str]) -> set[str]:
    """Stems of the content words of a query: its index terms."""
    return {term for text in words for term in tokenize(text)}


_stem_of_word: dict[str, str] = {}
# words as written (any case) -> stem; bounded as ``tokenizer.MAX_CACHED_STEMS`` is
_MAX_STEMMED_WORDS = 200_000


class _Analysed(NamedTuple):
    """A text split once: word ``i`` is ``text[bounds[2i + 1]:bounds[2i + 2]]`` (its stem
    ``stems[i]``) and the separator before it ``text[bounds[2i]:bounds[2i + 1]]``.

    Compact and out of the garbage collector's walks: the bounds are a C array of ints, not
    Python ints, the words are cut from the text when shown rather than kept, and the stems
    (strings shared with ``_stem_of_word``) are a tuple, which a collection stops watching
    once it has seen it. The lists this held before (~1,300 items an abstract) made 221k of
    the 264k references the young generations held between two searches, and ~150 bytes a
    word (docs/benchmarks.md)."""

    text: str
    bounds: array[int]
    stems: tuple[str, ...]

    def word(self, index: int) -> str:
        return self.text[self.bounds[2 * index + 1] : self.bounds[2 * index + 2]]


# The words of recently shown texts, split once: popular papers come back query after
# query. Oldest out first (an OrderedDict: taking the first key of a plain dict from which
# the first keys were deleted walks past their empty slots). Bounded in bytes: an abstract
# split into lists of words, ints and stems took ~30 KB, and 20,000 of them (the old bound,
# in entries only) held ~600 MB per worker; compact, it takes ~5 KB, its text included.
# 64 MiB: ~20,000 titles and abstracts, every text of a ~10,000-paper corpus (the bundled
# one); a larger corpus keeps the most recently shown. Over 3,000 distinct searches of
# bench/http_load.py on the bundled corpus, 32 MiB split 16.6 texts afresh a search
# (CPU 7.2-7.9 ms a search), 48 MiB 7.8 (6.6-6.9 ms; in a slower spell 8.4-9.0), 64 MiB
# 1.4 (7.8-8.1 in that spell).
ANALYSED_BYTES = 64 * 1024 * 1024
_analysed: OrderedDict[str, _Analysed] = OrderedDict()
_analysed_total = 0  # the sum of ``_analysed_bytes`` over what is kept
# The web server answers searches from a thread pool: two threads evicting the same oldest
# text raised KeyError (a 500 under load, bench/http_load.py). Lookups stay lock-free.
_analysed_lock = threading.Lock()
# One C-level split gives separators and words alternately: no Python loop over matches.
# The tokenizer's words; an ASCII text by its ASCII pattern (no Unicode category lookup a
# character: ~30% faster on an abstract, and most are ASCII).
_WORD_SPLIT = re.compile(f"({WORD_PATTERN})")
_ASCII_WORD_SPLIT = re.compile(f"({ASCII_WORD_PATTERN})")


def _stem_word(word: str) -> str:
    word_stem = _stem_of_word.get(word)
    if word_stem is None:
        if len(_stem_of_word) >= _MAX_STEMMED_WORDS:
            _stem_of_word.clear()
        word_stem = _stem_of_word[word] = stem(fold(word))
    return word_stem


def _analysed_bytes(analysed: _Analysed) -> int:
    """About what ``analysed`` holds: the text (counted twice over), the bounds' C array,
    a tuple slot per stem (the stems are shared with ``_stem_of_word``) and the objects
    around them; over the ~4.9 KB tracemalloc saw for an abstract (docs/benchmarks.md)."""
    return (
        2 * len(analysed.text)
        + analysed.bounds.itemsize * len(analysed.bounds)
        + (8 * len(analysed.stems) + 200)
    )


def _analyse(text: str) -> _Analysed:
    found = _analysed.get(text)
    if found is None:
        if text.isascii() and len(text) >= _ASCII_BYTES_FROM:
            words, bounds = _split_ascii(text)
        else:
            parts = (_ASCII_WORD_SPLIT if text.isascii() else _WORD_SPLIT).split(text)
            words = parts[1::2]
            bounds = array("I", accumulate(map(len, parts), initial=0))
        # dict lookups in C (``map``); only words never seen before go through Python
        stems = tuple(map(_stem_of_word.get, words))
        if None in stems:
            stems = tuple(
                known or _stem_word(word) for known, word in zip(stems, words, strict=True)
            )
        found = _Analysed(text, bounds, stems)  # type: ignore[arg-type]
        _keep(text, found)
    return found


# An ASCII text's words and bounds from its bytes, for texts this long and longer (an
# abstract: 20 instead of 41 us; a title is quicker by the regular expression).
_ASCII_BYTES_FROM = 256
# every byte that is not an ASCII letter or digit (``ASCII_WORD_PATTERN``) -> a space
_SPACE_BETWEEN_WORDS = bytes(
    byte if chr(byte).isascii() and chr(byte).isalnum() else ord(" ") for byte in range(256)
)
_BOUND = np.dtype(f"=u{array('I').itemsize}")  # the C unsigned int of ``array("I")``


def _split_ascii(text: str) -> tuple[list[str], array[int]]:
    """``text``'s words and the bounds ``_Analysed`` keeps, as the split by
    ``_ASCII_WORD_SPLIT`` gives them: the bounds are where a run of letters and digits
    starts or ends, between 0 and the text's length."""
    spaced = text.encode("ascii").translate(_SPACE_BETWEEN_WORDS)
    words = spaced.decode("ascii").split()
    in_word = np.zeros(len(spaced) + 2, np.bool_)  # a non-word byte on either side
    in_word[1:-1] = np.frombuffer(spaced, np.uint8) != ord(" ")
    edges = np.flatnonzero(in_word[1:] != in_word[:-1]).astype(_BOUND)
    bounds = array("I", [0])
    bounds.frombytes(edges.tobytes())
    bounds.append(len(text))
    return words, bounds


def _keep(text: str, found: _Analysed) -> None:
    global _analysed_total
    size = _analysed_bytes(found)
    if size > ANALYSED_BYTES // 4:
        return  # one huge text would push out everything else
    with _analysed_lock:
        if text in _analysed:
            return
        while _analysed and _analysed_total + size > ANALYSED_BYTES:
            _, oldest = _analysed.popitem(last=False)
            _analysed_total -= _analysed_bytes(oldest)
        _analysed[text] = found
        _analysed_total += size


def _matched(analysed: _Analysed, hits: list[bool]) -> dict[str, str]:
    """The first word (as written) of each queried stem, in text order."""
    seen: dict[str, str] = {}
    for index in compress(range(len(analysed.stems)), hits):
        word_stem = analysed.stems[index]
        if word_stem not in seen:
            seen[word_stem] = analysed.word(index)
    return seen


_STOP_STEMS = frozenset(stem(word) for word in STOP_WORDS)


def content_stems(text: str) -> list[str]:
    """The index terms of ``text`` in order (stop words out), as ``tokenize`` gives them,
    from the same per-text cache as the snippets."""
    return [word_stem for word_stem in _analyse(text).stems if word_stem not in _STOP_STEMS]


def matched_terms(text: str, stems: set[str]) -> list[str]:
    """The distinct words of ``text`` (as written, first occurrence) whose stem is queried."""
    analysed = _analyse(text)
    return list(_matched(analysed, list(map(stems.__contains__, analysed.stems))).values())


def describe_match(title: str, body: str, stems: set[str]) -> tuple[str, list[str]]:
    """The snippet of ``body`` and the matched words of title and body."""
    title_analysed = _analyse(title)
    seen = _matched(title_analysed, list(map(stems.__contains__, title_analysed.stems)))
    analysed = _analyse(body)
    hits = list(map(stems.__contains__, analysed.stems))
    for word_stem, word in _matched(analysed, hits).items():
        seen.setdefault(word_stem, word)
    return _snippet(analysed, hits), list(seen.values())


def make_snippet(text: str, stems: set[str], width: int = 40) -> str:
    """About ``width`` words of ``text`` around the densest run of matches.

    Returns HTML-escaped text in which matched words are wrapped in ``<mark>``.
    """
    analysed = _analyse(text)
    return _snippet(analysed, list(map(stems.__contains__, analysed.stems)), width)


def _snippet(analysed: _Analysed, hits: list[bool], width: int = 40) -> str:
    text, bounds, count = analysed.text, analysed.bounds, len(analysed.stems)
    if not count:
        return html.escape(text)
    # the window of ``width`` words holding the most matches (the first such window),
    # from prefix sums: count(i) = sum(hits[i : i + width])
    best_start = 0
    if count > width and any(hits):
        totals = list(accumulate(hits, initial=0))
        counts = list(map(sub, totals[width:], totals))
        best_start = counts.index(max(counts))
    last = min(best_start + width, count) - 1
    # Cut from the text itself: words are runs of letters and digits, which HTML never
    # escapes, so only the text between two marks is escaped, in one call each.
    position = bounds[2 * best_start + 1]
    pieces: list[str] = ["… " if best_start else html.escape(text[:position])]
    for index in compress(range(best_start, last + 1), hits[best_start : last + 1]):
        start = bounds[2 * index + 1]
        pieces.append(html.escape(text[position:start]))
        pieces.append(MARK_OPEN + text[start : bounds[2 * index + 2]] + MARK_CLOSE)
        position = bounds[2 * index + 2]
    end = bounds[2 * last + 2]
    pieces.append(html.escape(text[position:end]))
    pieces.append(" …" if last < count - 1 else html.escape(text[end:]))
    return "".join(pieces)


_MARK_TAG = re.compile(f"({re.escape(MARK_OPEN)}|{re.escape(MARK_CLOSE)})")


def plain_snippet(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """A snippet of :func:`describe_match` (escaped HTML with ``<mark>``) as plain text
    and the marked spans as ``(start, end)`` character offsets into it, for callers that
    are not a web page (``search --json``): ``text[start:end]`` is each marked word."""
    pieces: list[str] = []
    marks: list[tuple[int, int]] = []
    position = 0
    start: int | None = None
    for part in _MARK_TAG.split(marked):
        if part == MARK_OPEN:
            start = position
        elif part == MARK_CLOSE:
            if start is not None:
                marks.append((start, position))
            start = None
        else:
            text = html.unescape(part)
            pieces.append(text)
            position += len(text)
    return "".join(pieces), marks
