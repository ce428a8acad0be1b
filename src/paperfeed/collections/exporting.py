"""Export papers for reference managers: BibTeX, RIS, CSV and JSON.

BibTeX follows arXiv's own "Export BibTeX Citation" (``@misc`` with ``eprint``,
``archivePrefix = {arXiv}``, ``primaryClass``), which Zotero, JabRef and biber all read
as an arXiv e-print; a paper with a journal reference is an ``@article`` with the same
e-print fields. The file is written by bibtexparser. Keys are stable across exports:
first author's surname, year, first significant title word (``vaswani2017attention``),
with ``a``, ``b``, ... appended, in arXiv-id order, when two papers would share one.

RIS follows the RIS format specification (Research Information Systems, 2012):
``TY`` first, ``ER`` last, one ``AU`` per author, written by rispy.
"""

from __future__ import annotations

import csv
import io
import json
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import rispy

from paperfeed.ingest import fold_for_matching
from paperfeed.ingest.identifiers import is_doi, url_id
from paperfeed.models import StoredPaper
from paperfeed.store.collections import Collection

# bibtexparser is imported where a file is written: its LaTeX tables (pylatexenc) took
# ~70 ms of every `paperfeed` command's start, most of which never touch BibTeX
if TYPE_CHECKING:
    from bibtexparser import model

_NEW_STYLE_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
# BibTeX's (LaTeX's) special characters in plain text, and what writes each as itself:
# a bare "~" is a no-break space, "^" a math-mode superscript, "\\" starts a command
_BIBTEX_SPECIAL = re.compile(r"[&%$#_{}~^\\]")
_BIBTEX_ESCAPES = {
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
}
_BRACES = re.compile(r"[{}]")
_KEY_WORD = re.compile(r"[A-Za-z]+")
# a title word keeps its digits ("4DAnyone" -> "4danyone", not "danyone"); a word must
# have a letter, so a bare number ("2: ...", a year) is not the key's word
_TITLE_KEY_WORD = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*")
_SMALL_WORDS = {"a", "an", "the", "on", "of", "for", "and", "in", "to", "with", "via"}


@dataclass(frozen=True)
class ExportFormat:
    """A file format: its media type and file-name extension."""

    name: str
    media_type: str
    extension: str


FORMATS = {
    "bibtex": ExportFormat("bibtex", "application/x-bibtex; charset=utf-8", "bib"),
    "ris": ExportFormat("ris", "application/x-research-info-systems; charset=utf-8", "ris"),
    "csv": ExportFormat("csv", "text/csv; charset=utf-8", "csv"),
    "json": ExportFormat("json", "application/json", "json"),
}


class ExportError(ValueError):
    """An unknown export format; the message names it and the known ones."""


def preprint_server(paper: StoredPaper) -> str | None:
    """``bioRxiv`` or ``medRxiv`` for a paper identified by its DOI, else None (arXiv)."""
    if not is_doi(paper.arxiv_id):
        return None
    return "medRxiv" if "medrxiv" in paper.sources else "bioRxiv"


def source_url(paper: StoredPaper) -> str:
    """The paper's page at its source: arXiv's abstract page, or bioRxiv's/medRxiv's."""
    server = preprint_server(paper)
    if server is None:
        return f"https://arxiv.org/abs/{paper.arxiv_id}"
    return f"https://www.{server.lower()}.org/content/{url_id(paper.arxiv_id)}"


def publication_year(paper: StoredPaper) -> str:
    """The year from the publication date, else from a new-style id (YYMM.NNNNN)."""
    if paper.published:
        return paper.published[:4]
    match = _NEW_STYLE_ID.match(paper.arxiv_id)
    if match:
        return f"20{match.group(1)}"
    return (paper.date or "")[:4]


def citation_key(paper: StoredPaper) -> str:
    """``surnameYEARword``: the first author's surname, the year, the first significant
    title word with its digits, ASCII letters and digits only (the form arXiv and Google
    Scholar use; BibTeX keys may hold both)."""
    surname = paper.authors[0].split()[-1] if paper.authors else "anonymous"
    # accents folded, not dropped: "Thérien" is "therien", not "thrien"
    surname = "".join(_KEY_WORD.findall(fold_for_matching(surname))) or "anonymous"
    title_words = _TITLE_KEY_WORD.findall(fold_for_matching(paper.title))
    first_word = next((word for word in title_words if word not in _SMALL_WORDS), "paper")
    return f"{surname}{publication_year(paper)}{first_word}"


def citation_keys(papers: Sequence[StoredPaper]) -> dict[int, str]:
    """A unique key for each paper (by store key); clashes get ``a``, ``b``, ... in
    arXiv-id order, so the same set of papers always gets the same keys."""
    by_key: dict[str, list[StoredPaper]] = {}
    for paper in papers:
        by_key.setdefault(citation_key(paper), []).append(paper)
    keys: dict[int, str] = {}
    for base, group in by_key.items():
        ordered = sorted(group, key=lambda paper: paper.arxiv_id)
        if len(ordered) == 1:
            keys[ordered[0].key] = base
            continue
        for index, paper in enumerate(ordered):
            keys[paper.key] = base + _suffix(index)
    return keys


def _suffix(index: int) -> str:
    letters = string.ascii_lowercase
    return letters[index] if index < 26 else _suffix(index // 26 - 1) + letters[index % 26]


def _bibtex_text(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(_bibtex_escape, " ".join(text.split()))


def _bibtex_escape(special: re.Match[str]) -> str:
    character = special.group()
    return _BIBTEX_ESCAPES.get(character, "\\" + character)


def _bibtex_name(name: str) -> str:
    # "and" inside a name (a consortium) would split it: braces keep it one name
    text = _bibtex_text(name)
    return f"{{{text}}}" if re.search(r"\sand\s", text, re.IGNORECASE) else text


def _bibtex_entry(paper: StoredPaper, key: str) -> model.Entry:
    from bibtexparser import model

    fields = [
        ("title", _bibtex_text(paper.title)),
        ("author", " and ".join(_bibtex_name(name) for name in paper.authors)),
        ("year", publication_year(paper)),
    ]
    if paper.journal_ref:
        fields.append(("journal", _bibtex_text(paper.journal_ref)))
    server = preprint_server(paper)
    if server is None:
        fields += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
        if paper.categories:
            fields.append(("primaryClass", _bibtex_text(paper.categories[0])))
        doi = paper.doi
    else:
        # a bioRxiv/medRxiv preprint: its own DOI is its identifier (biblatex @misc
        # with howpublished, as the servers' own "Download citation" gives)
        fields.append(("howpublished", server))
        doi = paper.arxiv_id
        if paper.doi:
            fields.append(("note", f"Published as doi:{_BRACES.sub('', paper.doi.strip())}"))
    if doi:
        # verbatim in biblatex: no escapes, only braces (which would end the field) dropped
        fields.append(("doi", _BRACES.sub("", doi.strip())))
    fields.append(("url", _BRACES.sub("", source_url(paper))))  # verbatim, as the DOI
    if paper.abstract:
        fields.append(("abstract", _bibtex_text(paper.abstract)))
    kind = "article" if paper.journal_ref else "misc"
    return model.Entry(kind, key, [model.Field(name, value) for name, value in fields if value])


def to_bibtex(papers: Sequence[StoredPaper]) -> str:
    """A BibTeX file with one entry per paper."""
    from bibtexparser.entrypoint import write_string
    from bibtexparser.library import Library
    from bibtexparser.writer import BibtexFormat

    keys = citation_keys(papers)
    library = Library([_bibtex_entry(paper, keys[paper.key]) for paper in papers])
    layout = BibtexFormat()  # type: ignore[no-untyped-call]
    layout.indent = "  "
    layout.block_separator = "\n\n"
    return str(write_string(library, bibtex_format=layout)).strip() + "\n"


class _RisWriter(rispy.RisWriter):  # type: ignore[misc]
    """rispy's writer without its numbered ``1.`` headers, which the RIS spec lacks."""

    def set_header(self, count: int) -> str:
        return ""


def _ris_date(day: str | None) -> str | None:
    # RIS DA is YYYY/MM/DD/other-info
    return f"{day[:4]}/{day[5:7]}/{day[8:10]}/" if day and len(day) == 10 else None


def _ris_record(paper: StoredPaper, key: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type_of_reference": "JOUR" if paper.journal_ref else "UNPB",
        "id": key,
        "authors": list(paper.authors),
        "title": " ".join(paper.title.split()),
        "abstract": " ".join(paper.abstract.split()),
        "year": publication_year(paper),
        "date": _ris_date(paper.published or paper.first_listed),
        "urls": [source_url(paper)],
        "doi": paper.doi,
        "journal_name": " ".join(paper.journal_ref.split()) if paper.journal_ref else None,
        "keywords": list(paper.categories),
        "notes": [f"arXiv:{paper.arxiv_id}"],
    }
    server = preprint_server(paper)
    if server is not None:
        record |= {"doi": paper.arxiv_id, "publisher": server, "notes": [f"{server} preprint"]}
        if paper.doi:
            record["notes"].append(f"Published as doi:{paper.doi}")
    return {name: _one_line(value) for name, value in record.items() if value}


def _one_line(value: Any) -> Any:
    """A RIS value (or each of a list's) on one line: a line break inside one would
    start a new tag there ("\nER  - " ends the record, and what follows is a new one)."""
    if isinstance(value, list):
        return [_one_line(item) for item in value]
    return " ".join(value.split()) if isinstance(value, str) else value


def to_ris(papers: Sequence[StoredPaper]) -> str:
    """A RIS file with one record per paper (``UNPB`` for a preprint, ``JOUR`` with a
    journal reference)."""
    keys = citation_keys(papers)
    records = [_ris_record(paper, keys[paper.key]) for paper in papers]
    return str(rispy.dumps(records, implementation=_RisWriter)).lstrip("\n")


CSV_COLUMNS = ["arxiv_id", "title", "authors", "year", "categories", "doi", "url", "added_at"]


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


# A spreadsheet reads a cell starting with one of these as a formula ("=HYPERLINK(...)",
# "=cmd|' /C calc'!A0"): such a cell gets a leading apostrophe, which shows it as text
# (OWASP, "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def to_csv(papers: Sequence[tuple[StoredPaper, float]]) -> str:
    """A CSV table (RFC 4180), one row per paper; authors and categories joined by ``; ``;
    a cell a spreadsheet would run as a formula is written as text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for paper, added in papers:
        row = [
            paper.arxiv_id,
            paper.title,
            "; ".join(paper.authors),
            publication_year(paper),
            "; ".join(paper.categories),
            paper.doi or "",
            source_url(paper),
            _iso(added),
        ]
        writer.writerow([_cell(str(value)) for value in row])
    return buffer.getvalue()


def collection_json(collection: Collection) -> dict[str, Any]:
    """A collection's own fields, as the API shows them."""
    return {
        "id": collection.id,
        "name": collection.name,
        "description": collection.description,
        "is_public": collection.is_public,
        "owner": collection.owner,
        "paper_count": collection.paper_count,
        "created_at": _iso(collection.created_at),
        "updated_at": _iso(collection.updated_at),
    }


def to_json(collection: Collection, papers: Sequence[tuple[StoredPaper, float]]) -> str:
    """The collection and its papers as one JSON document."""
    keys = citation_keys([paper for paper, _ in papers])
    document = collection_json(collection) | {
        "papers": [
            {
                "id": paper.arxiv_id,
                "citation_key": keys[paper.key],
                "title": paper.title,
                "authors": paper.authors,
                "abstract": paper.abstract,
                "year": publication_year(paper),
                "categories": paper.categories,
                "doi": paper.doi,
                "journal_ref": paper.journal_ref,
                "url": source_url(paper),
                "added_at": _iso(added),
            }
            for paper, added in papers
        ]
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def export_format(name: str) -> ExportFormat:
    """The format called ``name``, or ``ExportError`` listing the known ones."""
    try:
        return FORMATS[name.lower()]
    except KeyError:
        raise ExportError(
            f"unknown export format {name!r} (expected one of {', '.join(FORMATS)})"
        ) from None


def export_papers(
    collection: Collection, papers: Sequence[tuple[StoredPaper, float]], name: str
) -> tuple[str, ExportFormat]:
    """The collection's papers in the format called ``name``, and that format.

    Raises:
        ExportError: an unknown format.
    """
    chosen = export_format(name)
    plain = [paper for paper, _ in papers]
    if chosen.name == "bibtex":
        return to_bibtex(plain), chosen
    if chosen.name == "ris":
        return to_ris(plain), chosen
    if chosen.name == "csv":
        return to_csv(papers), chosen
    return to_json(collection, papers), chosen
