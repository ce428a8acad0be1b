"""Abstract snippets with the matched query terms marked."""

from __future__ import annotations

import html
import re
from itertools import accumulate

from paperfeed.index.tokenizer import STOP_WORDS, fold, stem

_WORD_SPAN = re.compile(r"[^\W_]+")
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def query_stems(words: list[str]) -> set[str]:
    """Stems of the content words of a query."""
    stems = set()
    for text in words:
        for word in _WORD_SPAN.findall(fold(text)):
            if word not in STOP_WORDS:
                stems.add(stem(word))
    return stems


_stem_of_word: dict[str, str] = {}
# The words of recently shown texts, split once: popular papers come back query after
# query. Plain dict, oldest out first (dicts keep insertion order).
_ANALYSED_TEXTS = 20_000
_analysed: dict[str, tuple[list[str], list[str], list[str]]] = {}
# One C-level split gives separators and words alternately: no Python loop over matches.
_WORD_SPLIT = re.compile(r"([^\W_]+)")


def _stem_word(word: str) -> str:
    word_stem = _stem_of_word.get(word)
    if word_stem is None:
        word_stem = _stem_of_word[word] = stem(fold(word))
    return word_stem


def _analyse(text: str) -> tuple[list[str], list[str], list[str]]:
    """``(separators, words, stems)``: text == sep[0] + word[0] + sep[1] + ... + sep[-1]."""
    found = _analysed.get(text)
    if found is None:
        parts = _WORD_SPLIT.split(text)
        words = parts[1::2]
        cache = _stem_of_word
        stems = [cache.get(word) or _stem_word(word) for word in words]
        found = (parts[0::2], words, stems)
        if len(_analysed) >= _ANALYSED_TEXTS:
            del _analysed[next(iter(_analysed))]
        _analysed[text] = found
    return found


def _matched(words: list[str], word_stems: list[str], stems: set[str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for word, word_stem in zip(words, word_stems, strict=True):
        if word_stem in stems and word_stem not in seen:
            seen[word_stem] = word
    return seen


_STOP_STEMS = frozenset(stem(word) for word in STOP_WORDS)


def content_stems(text: str) -> list[str]:
    """The index terms of ``text`` in order (stop words out), as ``tokenize`` gives them,
    from the same per-text cache as the snippets."""
    return [word_stem for word_stem in _analyse(text)[2] if word_stem not in _STOP_STEMS]


def matched_terms(text: str, stems: set[str]) -> list[str]:
    """The distinct words of ``text`` (as written, first occurrence) whose stem is queried."""
    _, words, word_stems = _analyse(text)
    return list(_matched(words, word_stems, stems).values())


def describe_match(title: str, body: str, stems: set[str]) -> tuple[str, list[str]]:
    """The snippet of ``body`` and the matched words of title and body."""
    _, title_words, title_stems = _analyse(title)
    seen = _matched(title_words, title_stems, stems)
    analysed = _analyse(body)
    for word_stem, word in _matched(analysed[1], analysed[2], stems).items():
        seen.setdefault(word_stem, word)
    return _snippet(analysed, stems), list(seen.values())


def make_snippet(text: str, stems: set[str], width: int = 40) -> str:
    """About ``width`` words of ``text`` around the densest run of matches.

    Returns HTML-escaped text in which matched words are wrapped in ``<mark>``.
    """
    return _snippet(_analyse(text), stems, width)


def _snippet(
    analysed: tuple[list[str], list[str], list[str]], stems: set[str], width: int = 40
) -> str:
    separators, words, word_stems = analysed
    if not words:
        return html.escape("".join(separators))
    hits = [word_stem in stems for word_stem in word_stems]
    # the window of ``width`` words holding the most matches (the first such window),
    # from prefix sums: count(i) = sum(hits[i : i + width])
    best_start = 0
    if len(words) > width and any(hits):
        totals = list(accumulate(hits, initial=0))
        counts = [totals[i + width] - totals[i] for i in range(len(words) - width + 1)]
        best_start = counts.index(max(counts))
    last = min(best_start + width, len(words)) - 1
    pieces: list[str] = ["… " if best_start else html.escape(separators[0])]
    for index in range(best_start, last + 1):
        if index > best_start:
            pieces.append(html.escape(separators[index]))
        word = html.escape(words[index])
        pieces.append(MARK_OPEN + word + MARK_CLOSE if hits[index] else word)
    if last < len(words) - 1:
        pieces.append(" …")
    else:
        pieces.append(html.escape(separators[-1]))
    return "".join(pieces)
