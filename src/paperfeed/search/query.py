"""The search syntax: free text, "phrases", -exclusions, field prefixes, dates, ids.

    diffusion "classifier-free guidance" -video ti:sampling au:"Song" cat:cs.LG
    since:2025-01 until:2025-06-30 date:2025-03..2025-04 2401.00165

Anything malformed falls back to plain text and leaves a note for the user;
parsing never raises.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from paperfeed.calendar_dates import calendar_date
from paperfeed.index.tokenizer import STOP_WORDS, tokenize, words
from paperfeed.ingest import normalize_arxiv_id, normalize_doi
from paperfeed.ingest.preprint_categories import (
    CATEGORIES as PREPRINT_CATEGORIES,
)
from paperfeed.ingest.preprint_categories import (
    is_preprint_category,
    normalize_category,
)

FIELD_PREFIXES = {
    "ti": "title",
    "title": "title",
    "au": "authors",
    "author": "authors",
    "abs": "abstract",
    "abstract": "abstract",
}
_FILTER_PREFIXES = ("cat", "since", "until", "date", "id", "arxiv", "doi")
_TOKEN = re.compile(r'(-?)(?:(\w+):)?(?:"([^"]*)"|(\S+))')
# an arXiv category: ``archive.SUBJECT`` (cs.LG, q-bio.NC, physics.optics) or an archive
# that is a category itself, whose names all have a hyphen (hep-th, quant-ph, gr-qc); a
# bare ``cs`` or ``LG`` is half of one ("cs LG" typed for cs.LG), never a category
CATEGORY_NAME = r"[A-Za-z]+(?:-[A-Za-z]+)*\.[A-Za-z][A-Za-z\-]*|[A-Za-z]+(?:-[A-Za-z]+)+"
_CATEGORY = re.compile(f"^(?:{CATEGORY_NAME})$")
# several categories in one value (a form's box, ``cat=``, ``--category``): commas or spaces
_CATEGORY_SEPARATORS = re.compile(r"[\s,]+")
# a DOI, alone or as a resolver or bioRxiv/medRxiv URL (``normalize_doi`` has the details)
_DOI_LIKE = re.compile(
    r"^(?:doi:|(?:https?://)?(?:dx\.)?doi\.org/|(?:https?://)?(?:www\.)?(?:bio|med)rxiv\.org/"
    r"|10\.\d{4,9}/)",
    re.IGNORECASE,
)
_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2}))?(?:-([0-9]{2}))?$")  # ASCII digits only
_URL_OR_ID = re.compile(
    r"^(?:https?://)?(?:(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)|(?:www\.)?huggingface\.co/papers)/\S+$|^\S*\d{4}\.\d{4,5}(v\d+)?$|^[a-z\-]+(\.[A-Z]{2})?/\d{7}(v\d+)?$",
    re.IGNORECASE,
)


class SearchError(ValueError):
    """A search parameter is out of range; the message names it and its value."""


@dataclass(frozen=True)
class ParsedQuery:
    """A query split into what each part asks for. Frozen (its lists are read, never
    changed: its tokenisation is cached on it, its canonical form keys the caches).

    Build one with ``parse_query`` (the typed box) and add the typed filters of a form
    or an API call with ``with_filters``; the engine takes this, never raw text.
    """

    text: str
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    fielded: list[tuple[str, str]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    arxiv_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def semantic_text(self) -> str:
        """What the embedder sees: the words, phrases and title/abstract values."""
        parts = list(self.words + self.phrases)
        parts += [value for name, value in self.fielded if name != "authors"]
        return " ".join(parts).strip()

    @property
    def has_content(self) -> bool:
        return bool(self.words or self.phrases or self.fielded)

    @cached_property
    def reads_as_prose(self) -> bool:
        """Whether the free text has stop words ("making models cheaper to run"): a
        sentence, not a keyword list; fusion then leans on meaning more."""
        return any(word in STOP_WORDS for text in self.words + self.phrases for word in words(text))

    @property
    def has_filters(self) -> bool:
        return bool(self.categories or self.since or self.until)

    # -- tokenised once per query (cached on the instance; the dataclass is frozen) --

    @cached_property
    def word_terms(self) -> tuple[str, ...]:
        """Index terms of the free words, in order."""
        return tuple(term for text in self.words for term in tokenize(text))

    @cached_property
    def phrase_terms(self) -> tuple[tuple[str, ...], ...]:
        """Index terms of each quoted phrase."""
        return tuple(tuple(tokenize(phrase)) for phrase in self.phrases)

    @cached_property
    def fielded_terms(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``(field, terms)`` of each ``ti:``/``au:``/``abs:`` value."""
        return tuple((name, tuple(tokenize(value))) for name, value in self.fielded)

    @cached_property
    def excluded_terms(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(tokenize(value)) for value in self.excluded)

    @cached_property
    def scored_terms(self) -> tuple[tuple[str, str | None], ...]:
        """What BM25F scores: ``(term, None)`` for words and phrases, ``(term, field)``
        for fielded values."""
        terms: list[tuple[str, str | None]] = [(term, None) for term in self.word_terms]
        terms += [(term, None) for phrase in self.phrase_terms for term in phrase]
        terms += [(term, name) for name, values in self.fielded_terms for term in values]
        return tuple(terms)

    @cached_property
    def segments(self) -> tuple[tuple[str, ...], ...]:
        """Runs of terms meant together, for the proximity feature: each phrase, each
        comma-separated keyword of the free text, each fielded value."""
        runs: list[tuple[str, ...]] = list(self.phrase_terms)
        runs += [values for name, values in self.fielded_terms if name != "authors"]
        runs += [tuple(tokenize(part)) for part in _keyword_parts(self.words)]
        return tuple(run for run in runs if run)

    @property
    def canonical(self) -> str:
        """One spelling per meaning: the cache key (word order kept: it changes phrases
        of the free text; filters sorted and lower-cased)."""
        parts = list(self.words)
        parts += [f'"{phrase}"' for phrase in self.phrases]
        parts += [f'-"{value}"' for value in sorted(self.excluded)]
        parts += [f'{name}:"{value}"' for name, value in sorted(self.fielded)]
        parts += [f"cat:{name}" for name in sorted({name.lower() for name in self.categories})]
        parts += [f"since:{self.since}"] if self.since else []
        parts += [f"until:{self.until}"] if self.until else []
        parts += [f"id:{arxiv_id}" for arxiv_id in self.arxiv_ids]
        return " ".join(parts)

    def with_filters(
        self,
        categories: Sequence[str] = (),
        since: str | None = None,
        until: str | None = None,
    ) -> ParsedQuery:
        """This query narrowed by typed filters (a form's boxes, API parameters).

        Raises:
            SearchError: naming the value, for a category that is not a category name
                (``"cs LG"``, a quote) or a date that is not ``YYYY[-MM[-DD]]``.
        """
        checked = category_names(categories)
        bounds: dict[str, str | None] = {"since": self.since, "until": self.until}
        for name, value in (("since", since), ("until", until)):
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            expanded = _expand_date(value.strip(), end=name == "until")
            if expanded is None:
                reason = _why_not_a_date(value.strip(), "expected YYYY, YYYY-MM or YYYY-MM-DD")
                raise SearchError(f"{name} {value!r} is not a date ({reason})")
            bounds[name] = expanded
        low, high = bounds["since"], bounds["until"]
        if low and high and low > high:
            raise SearchError(f"since {low} is after until {high}: no date is in between")
        return replace(
            self,
            categories=list(dict.fromkeys(self.categories + checked)),
            since=low,
            until=high,
        )


def category_names(values: Sequence[str]) -> list[str]:
    """The category names in typed filter values (a form's box, ``cat=``, ``--category``):
    each value may list several, separated by spaces or commas; empty values are no filter.

    Raises:
        SearchError: naming the value and the part that is not a category name.
    """
    checked = []
    # one string is one value ("cs.LG", "cs.CL cs.LG"), not a sequence of one-letter ones
    for value in [values] if isinstance(values, str) else values:
        if not isinstance(value, str):
            raise SearchError(f"category {value!r} is not a category name (expected e.g. cs.LG)")
        for name in _CATEGORY_SEPARATORS.split(value.strip()):
            if not name:
                continue
            if is_preprint_category(name):
                if normalize_category(name) not in PREPRINT_CATEGORIES:
                    raise SearchError(
                        f"unknown bioRxiv/medRxiv category {name!r} "
                        "(expected e.g. biorxiv.neuroscience)"
                    )
                checked.append(normalize_category(name))
                continue
            if not _CATEGORY.match(name):
                raise SearchError(
                    f"category {value!r} is not a category name: {name!r} is not one "
                    "(expected e.g. cs.LG; separate several with spaces or commas)"
                )
            checked.append(name)
    return checked


def _keyword_parts(words: Sequence[str]) -> list[str]:
    """The free words split at commas and semicolons ("sparse autoencoders, steering"):
    the keywords a person listed. Without any, the whole run is one part."""
    return [part for part in re.split(r"[,;]", " ".join(words)) if part.strip()]


def _expand_date(raw: str, end: bool) -> str | None:
    """``2025``, ``2025-03`` or ``2025-03-07`` as the first (or last) day it covers."""
    match = _DATE.match(raw)
    if not match:
        return None
    year, month, day = match.group(1), match.group(2), match.group(3)
    if month is not None and not 1 <= int(month) <= 12:
        return None
    if day is not None and calendar_date(f"{year}-{month}-{day}") is None:
        return None  # 2025-02-30, 2025-04-31, 2025-02-29
    if day is None:
        day = "31" if end else "01"  # YYYYMMDD comparison makes "-31" safe for any month
    if month is None:
        month = "12" if end else "01"
    return f"{year}-{month}-{day}"


def _why_not_a_date(raw: str, expected: str = "expected a date like 2025-03-07") -> str:
    """Why ``raw`` is no date bound, for a note or an error: a day the month lacks, or
    else ``expected``, the shape."""
    match = _DATE.match(raw)
    if match and match.group(3) is not None and 1 <= int(match.group(2)) <= 12:
        year, month, day = (int(part) for part in match.groups())
        if year and (day == 0 or day > calendar.monthrange(year, month)[1]):
            return f"{calendar.month_name[month]} {year} has no day {day}"
    return expected


def parse_query(text: str) -> ParsedQuery:
    """Parse ``text``; malformed parts become plain words with a note."""
    original = text
    # filled in place as the tokens are read (its lists are read-only once it is returned)
    query = ParsedQuery(original)
    if text.count('"') % 2:
        query.notes.append("unbalanced quote ignored: searching the words as plain text")
        text = text.replace('"', " ")
    stripped = text.strip()
    if _URL_OR_ID.match(stripped):
        arxiv_id = normalize_arxiv_id(stripped)
        if arxiv_id:
            query.arxiv_ids.append(arxiv_id)
            return _finished(query)
    if _DOI_LIKE.match(stripped):
        doi = normalize_doi(stripped)
        if doi:
            query.arxiv_ids.append(doi)
            return _finished(query)
    for match in _TOKEN.finditer(text):
        negated, prefix, quoted, bare = match.groups()
        value = quoted if quoted is not None else bare
        prefix_lower = prefix.lower() if prefix else None
        if prefix is None and bare is not None and bare.endswith(":"):
            named = bare[:-1].lstrip("-").lower()
            if named in FIELD_PREFIXES or named in _FILTER_PREFIXES:
                # "au:" with nothing after it (or "ti: word"): not the words "au" and "ti"
                query.notes.append(f"empty {bare} ignored (write {bare}value, no space)")
                continue
        if prefix_lower is None or not (
            prefix_lower in FIELD_PREFIXES or prefix_lower in _FILTER_PREFIXES
        ):
            # not a known prefix: the whole token is text ("BERT:" or "foo:bar" included)
            if prefix is not None:
                value = f"{prefix}:{value}"
            if not value.strip():  # "" or " ": a phrase of nothing
                query.notes.append(
                    f"empty phrase {negated}{match.group(0)[len(negated) :]} ignored"
                )
                continue
            _add_text(query, value, negated == "-", quoted is not None and prefix is None)
            continue
        if not value.strip():
            query.notes.append(f"empty {prefix}: ignored")
            continue
        if negated and prefix_lower not in FIELD_PREFIXES:
            # a filter keeps what it names; "-cat:cs.CV" must not quietly keep cs.CV
            query.notes.append(_unnegatable(prefix, value))
            continue
        if prefix_lower in FIELD_PREFIXES:
            if negated:
                query.excluded.append(value)
            else:
                query.fielded.append((FIELD_PREFIXES[prefix_lower], value))
        elif prefix_lower == "cat" and is_preprint_category(value):
            # bioRxiv/medRxiv: biorxiv.neuroscience, bioRxiv:cancer_biology, ...
            category = normalize_category(value)
            if category in PREPRINT_CATEGORIES:
                query.categories.append(category)
            else:
                query.notes.append(
                    f"ignored category {value!r} (no such bioRxiv/medRxiv subject; expected "
                    "e.g. biorxiv.neuroscience)"
                )
        elif prefix_lower == "doi":
            doi = normalize_doi(value)
            if doi:
                query.arxiv_ids.append(doi)
            else:
                query.notes.append(
                    f"ignored DOI {value!r} (expected e.g. 10.1101/2024.01.02.123456)"
                )
        elif prefix_lower == "cat":
            if _CATEGORY.match(value):
                query.categories.append(value)
            else:
                query.notes.append(f"ignored category {value!r} (expected e.g. cs.LG)")
        elif prefix_lower in ("id", "arxiv"):
            arxiv_id = normalize_arxiv_id(value) or (
                normalize_doi(value) if prefix_lower == "id" else None
            )
            if arxiv_id:
                query.arxiv_ids.append(arxiv_id)
            else:
                query.notes.append(f"ignored arXiv id {value!r} (expected e.g. 2401.00165)")
        else:
            query = _add_date(query, prefix_lower, value)
    return _finished(query)


def _unnegatable(prefix: str, value: str) -> str:
    """The note for a negated filter, which is ignored: what to type instead."""
    ignored = f"ignored -{prefix}:{value}"
    prefix = prefix.lower()
    if prefix == "cat":
        return f"{ignored} (a category cannot be left out: name the ones to keep with cat:)"
    if prefix in ("since", "until", "date"):
        return f"{ignored} (a date cannot be left out: since: and until: bound the dates to keep)"
    return f"{ignored} (an id cannot be left out)"


def _add_text(query: ParsedQuery, value: str, negated: bool, is_phrase: bool) -> None:
    if negated:
        query.excluded.append(value)
    elif is_phrase:
        query.phrases.append(value)
    elif _URL_OR_ID.match(value) and normalize_arxiv_id(value):
        query.arxiv_ids.append(normalize_arxiv_id(value) or value)
    elif _DOI_LIKE.match(value) and normalize_doi(value):
        query.arxiv_ids.append(normalize_doi(value) or value)
    else:
        query.words.append(value)


def _add_date(query: ParsedQuery, prefix: str, value: str) -> ParsedQuery:
    """The query with the date bound of ``prefix:value`` (a note says why one is ignored)."""
    if prefix == "date":
        first, _, last = value.partition("..")
        start = _expand_date(first, end=False) if first else None
        stop = _expand_date(last or first, end=True) if (last or first) else None
        if (first and start is None) or ((last or first) and stop is None):
            query.notes.append(f"ignored date range {value!r} (expected YYYY-MM-DD..YYYY-MM-DD)")
            return query
        return replace(query, since=start or query.since, until=stop or query.until)
    expanded = _expand_date(value, end=prefix == "until")
    if expanded is None:
        query.notes.append(f"ignored {prefix}:{value} ({_why_not_a_date(value)})")
        return query
    if prefix == "since":
        return replace(query, since=expanded)
    return replace(query, until=expanded)


def _finished(query: ParsedQuery) -> ParsedQuery:
    """The parsed query with each category and id once, in the order first typed."""
    return replace(
        query,
        categories=list(dict.fromkeys(query.categories)),
        arxiv_ids=list(dict.fromkeys(query.arxiv_ids)),
    )
