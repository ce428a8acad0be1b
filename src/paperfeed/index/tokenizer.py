"""Text to index terms: accent folding, lower-casing, stop words, Snowball stemming."""

from __future__ import annotations

import re
from itertools import filterfalse

import Stemmer

from paperfeed.ingest.latex_symbols import GREEK_LETTERS
from paperfeed.ingest.text_cleaning import fold_for_matching

# Lucene's English stop-word list (also bm25s's default): short enough that no
# content word of a paper title is dropped.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)

# Bumped whenever the terms a text gives change (folding, stop words, stemming): an index
# built by another version is rebuilt from scratch by ``paperfeed index`` (see
# ``index.builder.update_lexical``), never searched with mismatched terms.
# 1: lower-case + NFKD accent stripping. 2: ``fold_for_matching`` (ł, ø, æ, ß too).
# 3: Greek letters spelled out (the ``α`` that ``$\alpha$`` cleans to is ``alpha``).
# (Keywords and TL;DRs are made from folded words: bump ``annotations.ANNOTATOR_VERSION``
# with this.)
TOKENIZER_VERSION = 3

# A word: letters and digits (snippets split texts by the same patterns).
WORD_PATTERN = r"[^\W_]+"
# The same words in an ASCII text (letters and digits there are [A-Za-z0-9]), found without a
# Unicode category lookup per character: most folded titles and abstracts are ASCII.
ASCII_WORD_PATTERN = r"[A-Za-z0-9]+"
_WORD = re.compile(WORD_PATTERN)
_ASCII_WORD = re.compile(ASCII_WORD_PATTERN)
_stemmer = Stemmer.Stemmer("english")


_stems: dict[str, str] = {}
# A word never seen before adds ~150 bytes; queries of random words would add them
# forever. Past this many (~75 MB) the cache starts again: the common words come back
# within a few texts (word frequencies are Zipfian), the rest were one-offs.
MAX_CACHED_STEMS = 500_000


# Each lower-case Greek letter as its LaTeX name: ingest renders ``$\alpha$-stable`` as
# "α-stable", which a reader searches as "alpha-stable" (or "α-stable"); both are "alpha".
# (Capitals are lower-cased and variant forms such as ϑ, ϕ, µ decomposed before this.)
_GREEK_NAMES = str.maketrans(
    {
        symbol: name
        for name, symbol in GREEK_LETTERS.items()
        if name.islower() and not name.startswith("var")
    }
)


def fold(text: str) -> str:
    """Lower-case and strip accents: the one folding of indexing, querying and snippets
    (``Schrödinger``/``Schrodinger``, ``Łukasz``/``Lukasz``, ``Ø``/``o``, ``ß``/``ss``,
    ``α``/``alpha``)."""
    folded = fold_for_matching(text)
    return folded if folded.isascii() else folded.translate(_GREEK_NAMES)


_folded_words: dict[str, str] = {}


def fold_word(word: str) -> str:
    """``fold(word)`` for one word, cached as the stems are (the annotator folds a paper's
    words five times over: its text, its title, its sentences, its phrases)."""
    folded = _folded_words.get(word)
    if folded is None:
        if len(_folded_words) >= MAX_CACHED_STEMS:
            _folded_words.clear()
        folded = _folded_words[word] = fold(word)
    return folded


def stem(word: str) -> str:
    """Snowball English stem of a folded word (cached: the vocabulary is small)."""
    stemmed = _stems.get(word)
    if stemmed is None:
        if len(_stems) >= MAX_CACHED_STEMS:
            _stems.clear()
        stemmed = _stems[word] = str(_stemmer.stemWord(word))
    return stemmed


def _words_of(folded: str) -> list[str]:
    return (_ASCII_WORD if folded.isascii() else _WORD).findall(folded)


def words(text: str) -> list[str]:
    """Folded words of ``text`` in order, stop words included (for snippets)."""
    return _words_of(fold(text))


def tokenize(text: str) -> list[str]:
    """Index terms of ``text``: folded, stop words removed, stemmed."""
    content_words = list(filterfalse(STOP_WORDS.__contains__, _words_of(fold(text))))
    # known stems by C-level lookups (``map``); only words never stemmed go through Python
    terms = list(map(_stems.get, content_words))
    if None in terms:
        return [
            known if known is not None else stem(word)
            for known, word in zip(terms, content_words, strict=True)
        ]
    return terms  # type: ignore[return-value]
