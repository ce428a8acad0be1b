"""Abstract snippets with the matched query terms marked."""

from __future__ import annotations

import html
import re

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


def _word_stems(text: str) -> list[tuple[int, int, str]]:
    """(start, end, stem) of every word of ``text``; one cached look-up per word."""
    cache = _stem_of_word
    found = []
    for match in _WORD_SPAN.finditer(text):
        word = match.group()
        word_stem = cache.get(word)
        if word_stem is None:
            word_stem = cache[word] = stem(fold(word))
        found.append((match.start(), match.end(), word_stem))
    return found


def _matched(text: str, words: list[tuple[int, int, str]], stems: set[str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for start, end, word_stem in words:
        if word_stem in stems and word_stem not in seen:
            seen[word_stem] = text[start:end]
    return seen


def matched_terms(text: str, stems: set[str]) -> list[str]:
    """The distinct words of ``text`` (as written, first occurrence) whose stem is queried."""
    return list(_matched(text, _word_stems(text), stems).values())


def describe_match(title: str, body: str, stems: set[str]) -> tuple[str, list[str]]:
    """The snippet of ``body`` and the matched words of title and body, in one pass each."""
    body_words = _word_stems(body)
    seen = _matched(title, _word_stems(title), stems)
    for word_stem, word in _matched(body, body_words, stems).items():
        seen.setdefault(word_stem, word)
    return _snippet(body, body_words, stems), list(seen.values())


def make_snippet(text: str, stems: set[str], width: int = 40) -> str:
    """About ``width`` words of ``text`` around the densest run of matches.

    Returns HTML-escaped text in which matched words are wrapped in ``<mark>``.
    """
    return _snippet(text, _word_stems(text), stems, width)


def _snippet(text: str, words: list[tuple[int, int, str]], stems: set[str], width: int = 40) -> str:
    if not words:
        return html.escape(text)
    spans = [(start, end) for start, end, _ in words]
    hits = [word_stem in stems for _, _, word_stem in words]
    best_start, best_count = 0, -1
    window_count = sum(hits[:width])
    for first in range(0, max(len(spans) - width, 0) + 1):
        if first:
            window_count += hits[first + width - 1] if first + width - 1 < len(hits) else 0
            window_count -= hits[first - 1]
        if window_count > best_count:
            best_start, best_count = first, window_count
    last = min(best_start + width, len(spans)) - 1
    begin = spans[best_start][0] if best_start else 0
    end = spans[last][1] if last < len(spans) - 1 else len(text)
    pieces: list[str] = ["… " if begin else ""]
    cursor = begin
    for index in range(best_start, last + 1):
        start, stop = spans[index]
        if hits[index]:
            pieces.append(html.escape(text[cursor:start]))
            pieces.append(MARK_OPEN + html.escape(text[start:stop]) + MARK_CLOSE)
            cursor = stop
    pieces.append(html.escape(text[cursor:end]))
    if end < len(text):
        pieces.append(" …")
    return "".join(pieces)
