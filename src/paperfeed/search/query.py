"""The search syntax: free text, "phrases", -exclusions, field prefixes, dates, ids.

    diffusion "classifier-free guidance" -video ti:sampling au:"Song" cat:cs.LG
    since:2025-01 until:2025-06-30 date:2025-03..2025-04 2401.00165

Anything malformed falls back to plain text and leaves a note for the user;
parsing never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from paperfeed.ingest import normalize_arxiv_id

FIELD_PREFIXES = {
    "ti": "title",
    "title": "title",
    "au": "authors",
    "author": "authors",
    "abs": "abstract",
    "abstract": "abstract",
}
_TOKEN = re.compile(r'(-?)(?:(\w+):)?(?:"([^"]*)"|(\S+))')
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[a-z][a-z\-]*)?$", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
_URL_OR_ID = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/\S+$|^\S*\d{4}\.\d{4,5}(v\d+)?$|^[a-z\-]+(\.[A-Z]{2})?/\d{7}(v\d+)?$",
    re.IGNORECASE,
)


@dataclass
class ParsedQuery:
    """A query split into what each part asks for."""

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
        parts = self.words + self.phrases
        parts += [value for name, value in self.fielded if name != "authors"]
        return " ".join(parts).strip()

    @property
    def has_content(self) -> bool:
        return bool(self.words or self.phrases or self.fielded)


def _expand_date(raw: str, end: bool) -> str | None:
    """``2025``, ``2025-03`` or ``2025-03-07`` as the first (or last) day it covers."""
    match = _DATE.match(raw)
    if not match:
        return None
    year, month, day = match.group(1), match.group(2), match.group(3)
    if month is not None and not 1 <= int(month) <= 12:
        return None
    if day is not None and not 1 <= int(day) <= 31:
        return None
    if day is None:
        day = "31" if end else "01"  # YYYYMMDD comparison makes "-31" safe for any month
    if month is None:
        month = "12" if end else "01"
    return f"{year}-{month}-{day}"


def parse_query(text: str) -> ParsedQuery:
    """Parse ``text``; malformed parts become plain words with a note."""
    query = ParsedQuery(text=text)
    if text.count('"') % 2:
        query.notes.append("unbalanced quote ignored: searching the words as plain text")
        text = text.replace('"', " ")
    stripped = text.strip()
    if _URL_OR_ID.match(stripped):
        arxiv_id = normalize_arxiv_id(stripped)
        if arxiv_id:
            query.arxiv_ids.append(arxiv_id)
            return query
    for match in _TOKEN.finditer(text):
        negated, prefix, quoted, bare = match.groups()
        value = quoted if quoted is not None else bare
        prefix_lower = prefix.lower() if prefix else None
        if prefix_lower is None or not (
            prefix_lower in FIELD_PREFIXES
            or prefix_lower in ("cat", "since", "until", "date", "id", "arxiv")
        ):
            # not a known prefix: the whole token is text ("BERT:" or "foo:bar" included)
            if prefix is not None:
                value = f"{prefix}:{value}"
            _add_text(query, value, negated == "-", quoted is not None and prefix is None)
            continue
        if not value.strip():
            query.notes.append(f"empty {prefix}: ignored")
            continue
        if prefix_lower in FIELD_PREFIXES:
            if negated:
                query.excluded.append(value)
            else:
                query.fielded.append((FIELD_PREFIXES[prefix_lower], value))
        elif prefix_lower == "cat":
            if _CATEGORY.match(value):
                query.categories.append(value)
            else:
                query.notes.append(f"ignored category {value!r} (expected e.g. cs.LG)")
        elif prefix_lower in ("id", "arxiv"):
            arxiv_id = normalize_arxiv_id(value)
            if arxiv_id:
                query.arxiv_ids.append(arxiv_id)
            else:
                query.notes.append(f"ignored arXiv id {value!r} (expected e.g. 2401.00165)")
        else:
            _add_date(query, prefix_lower, value)
    return query


def _add_text(query: ParsedQuery, value: str, negated: bool, is_phrase: bool) -> None:
    if negated:
        query.excluded.append(value)
    elif is_phrase:
        query.phrases.append(value)
    elif _URL_OR_ID.match(value) and normalize_arxiv_id(value):
        query.arxiv_ids.append(normalize_arxiv_id(value) or value)
    else:
        query.words.append(value)


def _add_date(query: ParsedQuery, prefix: str, value: str) -> None:
    if prefix == "date":
        first, _, last = value.partition("..")
        start = _expand_date(first, end=False) if first else None
        stop = _expand_date(last or first, end=True) if (last or first) else None
        if (first and start is None) or ((last or first) and stop is None):
            query.notes.append(f"ignored date range {value!r} (expected YYYY-MM-DD..YYYY-MM-DD)")
            return
        query.since, query.until = start or query.since, stop or query.until
        return
    expanded = _expand_date(value, end=prefix == "until")
    if expanded is None:
        query.notes.append(f"ignored {prefix}:{value} (expected a date like 2025-03-07)")
    elif prefix == "since":
        query.since = expanded
    else:
        query.until = expanded
