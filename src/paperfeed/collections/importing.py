"""Import a reference manager's file (BibTeX or RIS, e.g. a Zotero export) into a collection.

Each entry is matched to a stored paper by, in order: its arXiv id (an ``eprint``
field, Mendeley's ``arxivId``, an arxiv.org URL, ``arXiv:...`` in ``journal``/``note``/
``N1``, or arXiv's own DOI ``10.48550/arXiv.<id>``), its DOI, then its title (case,
accents, LaTeX, braces and punctuation folded away). A paper withdrawn from arXiv is
listed back, not added. Every entry comes back in the report, added, already there,
or unmatched with the reason: none is dropped silently. Files are parsed by
bibtexparser (v2) and rispy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import rispy

from paperfeed.accounts import check_rate
from paperfeed.collections import (
    add_papers,
    hidden_message,
    memberships,
    owned_collection,
    withdrawn_message,
)
from paperfeed.ingest import clean_text, fold_for_matching, normalize_arxiv_id
from paperfeed.store import Store
from paperfeed.store import collections as collection_rows
from paperfeed.store.accounts import User
from paperfeed.store.moderation import hidden_paper_keys

if TYPE_CHECKING:
    from bibtexparser import model

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ENTRIES = 5000
# imports per user per window of seconds (matching by title reads every stored title)
IMPORT_RATE_LIMIT = (30, 3600)
IMPORT_FORMATS = ("auto", "bibtex", "ris")
_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv[:\s]\s*|arxiv\.org/(?:abs|pdf|html)/)"
    r"(\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})",
    re.IGNORECASE,
)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_RIS_START = re.compile(r"^\s*TY  - ", re.MULTILINE)
_RIS_END = re.compile(r"^\s*ER  -", re.MULTILINE)
_NOT_WORD = re.compile(r"[^\w]+")
_BRACES = re.compile(r"[{}]")
_ENCLOSING = {("{", "}"), ('"', '"')}
# LaTeX's names for characters it cannot write as themselves (the export writes "^" as
# \textasciicircum{}, and Zotero, JabRef and biber take these names): the character again
_NAMED_CHARACTERS = {
    "textasciicircum": "^",
    "textasciitilde": "~",
    "textbackslash": "\\",
    "textunderscore": "_",
    "textdollar": "$",
    "textbar": "|",
    "textless": "<",
    "textgreater": ">",
}
_NAMED_CHARACTER = re.compile(r"\\(" + "|".join(_NAMED_CHARACTERS) + r")(?![A-Za-z])(?:\s*\{\})?")


class ImportFileError(ValueError):
    """The file cannot be read as BibTeX or RIS; the message says why."""


@dataclass(frozen=True)
class Reference:
    """One entry of the imported file, with what can identify its paper."""

    label: str  # the citation key, else the title, else "entry N"
    title: str
    arxiv_id: str | None
    doi: str | None
    abstract: str = ""  # when the file gives one (For you embeds unmatched entries by it)


@dataclass
class ImportReport:
    """What an import did with each entry."""

    format: str
    added: list[tuple[str, str]] = field(default_factory=list)  # (label, arXiv id)
    already: list[tuple[str, str]] = field(default_factory=list)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (label, reason)

    @property
    def total(self) -> int:
        return len(self.added) + len(self.already) + len(self.unmatched)


def title_fingerprint(title: str) -> str:
    """A title folded for matching: no braces, LaTeX rendered, accents and case folded,
    punctuation dropped (``{BERT}: Pre-training`` -> ``bert pre training``)."""
    title = _NAMED_CHARACTER.sub(lambda name: _NAMED_CHARACTERS[name.group(1)], title)
    text = fold_for_matching(clean_text(_BRACES.sub("", title)))
    return " ".join(_NOT_WORD.sub(" ", text).split())


def _arxiv_id_in(values: Iterable[str | None]) -> str | None:
    for value in values:
        if not value:
            continue
        found = normalize_arxiv_id(value)
        if found:
            return found
        match = _ARXIV_IN_TEXT.search(value)
        if match:
            found = normalize_arxiv_id(match.group(1))
            if found:
                return found
    return None


def _doi(value: str | None) -> tuple[str | None, str | None]:
    """``(doi, arXiv id)`` from a DOI field: arXiv's own DOIs name the paper."""
    if not value:
        return None, None
    match = _DOI.match(value.strip())
    if not match:
        return None, None
    doi = match.group(1)
    arxiv = _ARXIV_DOI.match(doi)
    return doi, normalize_arxiv_id(arxiv.group(1)) if arxiv else None


def _reference(
    label: str, title: str, doi_field: str | None, *texts: str | None, abstract: str = ""
) -> Reference:
    doi, doi_arxiv = _doi(doi_field)
    arxiv_id = _arxiv_id_in(texts) or doi_arxiv
    return Reference(label or title or "entry", title, arxiv_id, doi, abstract)


def _bibtex_value(entry: model.Entry, *names: str) -> str | None:
    fields = {name.lower(): item.value for name, item in entry.fields_dict.items()}
    for name in names:
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def parse_bibtex(text: str) -> tuple[list[Reference], list[tuple[str, str]]]:
    """The entries of a BibTeX file, and ``(label, reason)`` of blocks that failed to parse."""
    from bibtexparser import model  # when a file comes: see ``exporting``
    from bibtexparser.entrypoint import parse_string

    library = parse_string(text)
    references = [_bibtex_reference(entry) for entry in library.entries]
    failed = []
    for block in library.failed_blocks:
        duplicate = getattr(block, "ignore_error_block", None)
        if isinstance(duplicate, model.Entry):
            # a key used twice (files merged from several libraries): bibtexparser parsed
            # the entry but set it aside, unprocessed; its key means nothing here
            references.append(_bibtex_reference(_without_enclosing(duplicate)))
            continue
        first_line = (block.raw or "").strip().splitlines()[0] if block.raw else "a block"
        line = "" if block.start_line is None else f" at line {block.start_line + 1}"
        failed.append((first_line[:80], f"not valid BibTeX{line}: {_parse_failure(block.error)}"))
    return references, failed


def _bibtex_reference(entry: model.Entry) -> Reference:
    eprint = _bibtex_value(entry, "eprint")
    prefix = (_bibtex_value(entry, "archiveprefix", "eprinttype") or "arxiv").lower()
    return _reference(
        entry.key,
        _bibtex_value(entry, "title") or "",
        _bibtex_value(entry, "doi"),
        eprint if prefix == "arxiv" else None,
        # Mendeley writes arxivId = {...}; some tools a plain arxiv = {...}
        _bibtex_value(entry, "arxivid", "arxiv"),
        _bibtex_value(entry, "url"),
        _bibtex_value(entry, "journal", "journaltitle"),
        _bibtex_value(entry, "note"),
        _bibtex_value(entry, "howpublished"),
        _bibtex_value(entry, "archiveprefix") and eprint,
        abstract=_bibtex_value(entry, "abstract") or "",
    )


def _without_enclosing(entry: model.Entry) -> model.Entry:
    """The entry with each value's ``{...}`` or ``"..."`` taken off, as parsing does."""
    from bibtexparser import model

    fields = []
    for item in entry.fields:
        value = item.value
        if isinstance(value, str) and len(value) > 1 and (value[0], value[-1]) in _ENCLOSING:
            value = value[1:-1]
        fields.append(model.Field(item.key, value))
    return model.Entry(entry.entry_type, entry.key, fields)


def _parse_failure(error: Exception | None) -> str:
    """What bibtexparser says went wrong: its abort reason (its exception has no message)."""
    reason = getattr(error, "abort_reason", None) or (str(error) if error else "")
    return str(reason) or "bibtexparser could not read it"


def parse_ris(text: str) -> tuple[list[Reference], list[tuple[str, str]]]:
    """The records of a RIS file (rispy), as references."""
    if _RIS_START.search(text) and not _RIS_END.search(text.rpartition("TY  - ")[2]):
        text = text.rstrip() + "\nER  - \n"  # the last record's ER line lost (a cut file)
    try:
        records = rispy.loads(text, skip_unknown_tags=True)
    except (OSError, ValueError, IndexError, KeyError) as error:
        raise ImportFileError(f"the file is not valid RIS: {error}") from None
    references = []
    for index, record in enumerate(records, start=1):
        title = str(record.get("title") or record.get("primary_title") or "")
        urls = [str(url) for url in record.get("urls") or []]
        notes = [str(note) for note in record.get("notes") or []]
        references.append(
            _reference(
                str(record.get("id") or title or f"record {index}"),
                title,
                record.get("doi"),
                *urls,
                record.get("journal_name"),
                record.get("secondary_title"),
                *notes,
                record.get("note"),
                abstract=str(record.get("abstract") or ""),
            )
        )
    return references, []


def parse_references(
    text: str, format: str = "auto"
) -> tuple[str, list[Reference], list[tuple[str, str]]]:
    """``(format, references, failed blocks)`` of a BibTeX or RIS file.

    Raises:
        ImportFileError: an unknown format, or a file holding no entries of that format.
    """
    if format not in IMPORT_FORMATS:
        raise ImportFileError(
            f"unknown import format {format!r} (expected one of {', '.join(IMPORT_FORMATS)})"
        )
    chosen = format
    if chosen == "auto":
        chosen = "ris" if _RIS_START.search(text) and "@" not in text.lstrip()[:1] else "bibtex"
    references, failed = parse_bibtex(text) if chosen == "bibtex" else parse_ris(text)
    if not references:
        problem = f"; {failed[0][1]}" if failed else ""
        raise ImportFileError(
            f"the file holds no {'BibTeX' if chosen == 'bibtex' else 'RIS'} entries "
            "(expected a .bib file with entries like @misc{key, ...} or a .ris file "
            f"whose records start with 'TY  - '){problem}"
        )
    if len(references) + len(failed) > MAX_IMPORT_ENTRIES:
        raise ImportFileError(
            f"the file holds {len(references) + len(failed):,} entries "
            f"(at most {MAX_IMPORT_ENTRIES:,} at a time)"
        )
    return chosen, references, failed


def match_references(store: Store, references: list[Reference]) -> list[int | None]:
    """The store key of each reference's paper (None where none matches)."""
    # a bioRxiv/medRxiv paper's id is its DOI (lower case): a DOI may name one directly
    by_id = collection_rows.keys_by_arxiv_id(
        store,
        [ref.arxiv_id for ref in references if ref.arxiv_id]
        + [ref.doi.lower() for ref in references if ref.doi],
    )
    by_doi = collection_rows.keys_by_doi(store, [ref.doi for ref in references if ref.doi])
    keys: list[int | None] = []
    for ref in references:
        key = by_id.get(ref.arxiv_id or "")
        if key is None and ref.doi:
            key = by_doi.get(ref.doi.lower()) or by_id.get(ref.doi.lower())
        keys.append(key)
    wanted = {
        title_fingerprint(ref.title): index
        for index, ref in enumerate(references)
        if keys[index] is None and ref.title
    }
    wanted.pop("", None)
    if wanted:
        by_title: dict[str, int] = {}
        for batch in collection_rows.iter_titles(store):
            for key, title in batch:
                fingerprint = title_fingerprint(title)
                if fingerprint in wanted:
                    by_title.setdefault(fingerprint, key)
        for index, ref in enumerate(references):
            if keys[index] is None and ref.title:
                keys[index] = by_title.get(title_fingerprint(ref.title))
    return keys


def _unmatched_reason(ref: Reference) -> str:
    if ref.arxiv_id:
        return f"arXiv paper {ref.arxiv_id} is not stored here"
    if ref.doi:
        return f"no stored paper has DOI {ref.doi} or this title"
    if ref.title:
        return "no arXiv id or DOI, and no stored paper has this title"
    return "the entry has no arXiv id, DOI or title"


def read_import_text(content: bytes | str) -> str:
    """An uploaded file's text.

    Raises:
        ImportFileError: too big, not UTF-8, or binary.
    """
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportFileError(
            f"the file is {len(content):,} bytes (at most {MAX_IMPORT_BYTES:,} at a time)"
        )
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ImportFileError(
                f"the file is not UTF-8 text (byte {error.start}); export it as UTF-8"
            ) from None
    else:
        text = content
    if "\x00" in text:
        raise ImportFileError("the file is binary, not BibTeX or RIS text")
    return text


def import_references(
    store: Store, user: User, collection_id: int, content: bytes | str, format: str = "auto"
) -> ImportReport:
    """Add the papers of a BibTeX or RIS file to one's own collection, in one transaction.

    Raises:
        ImportFileError: too big, not UTF-8, or not BibTeX/RIS.
        CollectionNotFoundError, NotYourCollectionError: not the user's collection.
        RateLimitedError: more than ``IMPORT_RATE_LIMIT`` imports in the window.
    """
    owned_collection(store, collection_id, user)
    check_rate(store, f"import:user:{user.id}", *IMPORT_RATE_LIMIT)
    text = read_import_text(content)
    chosen, references, failed = parse_references(text, format)
    keys = match_references(store, references)
    papers = store.get_papers([key for key in keys if key is not None])
    report = ImportReport(chosen)
    present = memberships(store, user).get(collection_id, set())
    withdrawn = {key for key, paper in papers.items() if paper.withdrawn_on and key not in present}
    hidden = set(hidden_paper_keys(store)) & papers.keys() - present
    matched = [key for key in keys if key is not None and key not in withdrawn | hidden]
    added = set(add_papers(store, user, collection_id, matched)) if matched else set()
    seen: set[int] = set()
    for ref, key in zip(references, keys, strict=True):
        if key is None:
            report.unmatched.append((ref.label, _unmatched_reason(ref)))
        elif key in withdrawn:
            report.unmatched.append((ref.label, withdrawn_message(papers[key])))
        elif key in hidden:
            report.unmatched.append((ref.label, hidden_message(papers[key])))
        elif key in added and key not in seen:
            report.added.append((ref.label, papers[key].arxiv_id))
        else:
            report.already.append((ref.label, papers[key].arxiv_id))
        if key is not None:
            seen.add(key)
    report.unmatched.extend(failed)
    return report
