"""Validation shared by the format readers: one record in, one ``Paper`` or ``Rejection`` out.

A record is rejected, never fixed up, when it is not valid JSON, is not an object,
has no id or one ``normalize_arxiv_id`` refuses, has neither title nor abstract, or
has a field of the wrong type. Counts (upvotes, comments, stars) must be
non-negative whole numbers up to ``MAX_COUNT``; JSON numbers like ``12.0`` and
numeric strings like ``"12"`` are accepted because exporters (pandas, spreadsheets)
write them so.

Field caps (``FIELD_CAPS``, checked by ``convert_record`` for every file format and by
the OAI-PMH reader): a record over one is rejected whole, named by its id, never cut
short. The caps sit far above anything real (the shared crawls of 84k arXiv and 10k
daily papers top out at a 226-character title, a 4,031-character abstract, 3,303
authors and a 512-character author string) and far below what makes a page heavy.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperfeed.calendar_dates import is_calendar_date
from paperfeed.ingest.errors import IngestError
from paperfeed.ingest.identifiers import normalize_arxiv_id
from paperfeed.ingest.json_values import JsonTooDeep, ListItem, loads, loads_list_items
from paperfeed.ingest.source_files import READ_ERRORS, first_character, open_binary, read_head
from paperfeed.models import Paper, Rejection

Record = Mapping[str, object]
RecordConverter = Callable[[Record], Paper]

_DATE_PREFIX = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LONGEST_QUOTED_VALUE = 80
_HEAD_SIZE = 4096
_JSON_TYPE_NAMES = {dict: "object", list: "list", str: "str", int: "int", float: "float"}

# Upvotes, comments and stars; the store keeps them in 32-bit integer columns.
MAX_COUNT = 1_000_000_000
# The caps, in characters (or items for lists): see the module docstring.
FIELD_CAPS: dict[str, int] = {
    "title": 1_000,
    "abstract": 20_000,
    "authors": 5_000,  # how many
    "author": 1_000,  # each one's name
    "categories": 50,
    "category": 200,
    "comment": 5_000,
    "organization": 200,  # as the source_accounts table holds a name
    "submitted_by": 200,
    "github_repo": 2_000,
    "project_page": 2_000,
    "doi": 2_000,
    "journal_ref": 2_000,
    "license": 2_000,
}
_CAPPED_TEXT = (
    *("title", "abstract", "comment", "organization", "submitted_by", "github_repo"),
    *("project_page", "doi", "journal_ref", "license"),
)


class RecordError(ValueError):
    """One record cannot become a ``Paper``; the message is the rejection reason."""


class RecordOverLimit(RecordError):
    """A field is over its cap or a count out of range; the rejection names the record."""


def describe_type(value: object) -> str:
    """Name the JSON type of ``value`` for an error message ("int", "object", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def quote(value: str) -> str:
    """Quote ``value`` for an error message, shortened so a huge field stays readable."""
    if len(value) > _LONGEST_QUOTED_VALUE:
        value = value[: _LONGEST_QUOTED_VALUE - 1] + "…"
    return f"'{value}'"


def read_arxiv_id(record: Record, key: str, label: str | None = None) -> str:
    """Return the normalised arXiv id in ``record[key]``.

    Raises:
        RecordError: the id is missing, not a string, or not an arXiv id.
    """
    value = record.get(key)
    if value is None or value == "":
        raise RecordError(f"missing arXiv id (field '{label or key}')")
    if not isinstance(value, str):
        raise RecordError(f"field '{label or key}' must be a string, got {describe_type(value)}")
    identifier = normalize_arxiv_id(value)
    if identifier is None:
        raise RecordError(f"bad arXiv id {quote(value)}")
    return identifier


def read_text(record: Record, key: str, label: str | None = None) -> str | None:
    """Return the string in ``record[key]`` unchanged, or ``None`` when absent or blank.

    Raises:
        RecordError: the value is not a string.
    """
    value = record.get(key)
    if isinstance(value, str):
        return value if value and not value.isspace() else None
    if value is None:
        return None
    raise RecordError(f"field '{label or key}' must be a string, got {describe_type(value)}")


def read_string_list(record: Record, key: str, label: str | None = None) -> list[str] | None:
    """Return the list of strings in ``record[key]``, or ``None`` when absent.

    Raises:
        RecordError: the value is not a list of strings.
    """
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                raise RecordError(
                    f"field '{label or key}' must be a list of strings, "
                    f"got a list holding {describe_type(item)}"
                )
        return value
    raise RecordError(
        f"field '{label or key}' must be a list of strings, got {describe_type(value)}"
    )


def read_count(record: Record, key: str, label: str | None = None) -> int | None:
    """Return the non-negative whole number in ``record[key]``, or ``None`` when absent.

    Raises:
        RecordError: the value is not a non-negative whole number.
    """
    value = record.get(key)
    if value is None:
        return None
    count = _to_count(value)
    # a 5,000-digit JSON integer is read as float inf (json_values): out of range too
    if (count is not None and count > MAX_COUNT) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise RecordOverLimit(
            f"field '{label or key}' must be a whole number from 0 to {MAX_COUNT:,}, "
            f"got {describe_type(value)} {_shown_number(value)}"
        )
    if count is None:
        shown = quote(value) if isinstance(value, str) else str(value)
        raise RecordError(
            f"field '{label or key}' must be a non-negative whole number, "
            f"got {describe_type(value)} {shown}"
        )
    return count


def _shown_number(value: object) -> str:
    text = quote(value) if isinstance(value, str) else str(value)
    # str() of a 10**30 int is short; of a 4,000-digit one, not: say how long it is
    return text if len(text) <= 40 else f"{text[:20]}… ({len(text)} digits)"


def _to_count(value: object) -> int | None:
    if isinstance(value, bool):
        return None  # JSON true/false is not a count, although bool subclasses int.
    count: int | None = None
    if isinstance(value, int):
        count = value
    elif isinstance(value, float):
        count = int(value) if value.is_integer() else None
    elif isinstance(value, str):
        count = int(value) if value.strip().isdecimal() else None
    return count if count is not None and count >= 0 else None


def read_date(record: Record, key: str, label: str | None = None) -> str | None:
    """Return the ``YYYY-MM-DD`` date at the start of ``record[key]`` (a date or timestamp).

    A date that is present but names no calendar day (``2026-02-30``) rejects the whole
    record, as any other bad field does, even where the field is optional: the source is
    wrong about this record, and the site would show and sort by a day that never was.

    Raises:
        RecordError: the value is not a string starting with an ISO date of a real day.
    """
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"field '{label or key}' must be a string, got {describe_type(value)}")
    if _DATE_PREFIX.match(value) is None:
        raise RecordError(
            f"field '{label or key}' must be a date like 2025-03-18, got {quote(value)}"
        )
    if not is_calendar_date(value[:10]):
        raise RecordError(f"field '{label or key}' is not a calendar date, got {quote(value)}")
    return value[:10]


def require_text(title: str | None, abstract: str | None) -> None:
    """Refuse a record that has neither a title nor an abstract: nothing to show or search.

    Raises:
        RecordError: both are missing or blank.
    """
    if title is None and abstract is None:
        raise RecordError("no title and no abstract")


def check_field_caps(paper: Paper) -> None:
    """Refuse a paper with a field over its ``FIELD_CAPS`` entry.

    Raises:
        RecordOverLimit: names the record, the field, its length and the cap.
    """
    problem = _over_cap(paper)
    if problem is not None:
        raise RecordOverLimit(f"record {paper.arxiv_id}: {problem}")


def _over_cap(paper: Paper) -> str | None:
    for name in _CAPPED_TEXT:
        value = getattr(paper, name)
        if value is not None and len(value) > FIELD_CAPS[name]:
            return f"{name} is {len(value):,} characters long (at most {FIELD_CAPS[name]:,})"
    for plural, singular in (("authors", "author"), ("categories", "category")):
        items: list[str] = getattr(paper, plural) or []
        if len(items) > FIELD_CAPS[plural]:
            return f"{len(items):,} {plural} (at most {FIELD_CAPS[plural]:,})"
        for position, item in enumerate(items, 1):
            if len(item) > FIELD_CAPS[singular]:
                return (
                    f"{singular} {position} is {len(item):,} characters long "
                    f"(at most {FIELD_CAPS[singular]:,})"
                )
    return None


def _record_id(value: Record) -> str | None:
    """The record's id where the formats we read keep it, to name a rejected record."""
    for holder, key in ((value, "id"), (value, "arxiv_id"), (value.get("paper"), "id")):
        found = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(found, str) and found:
            return found[:_LONGEST_QUOTED_VALUE]
    return None


def convert_record(
    value: object, file: str, line: int, to_paper: RecordConverter
) -> Paper | Rejection:
    """Turn one parsed JSON value into a ``Paper``, or a ``Rejection`` saying why not.

    The paper's fields are held to ``FIELD_CAPS``; a rejection for a field over its
    cap or a count out of range names the record's id.
    """
    if not isinstance(value, dict):
        return Rejection(file, line, f"record is not a JSON object, got {describe_type(value)}")
    try:
        paper = to_paper(value)
        check_field_caps(paper)
    except RecordOverLimit as error:
        record_id = _record_id(value)
        reason = str(error)
        if record_id is not None and not reason.startswith("record "):
            reason = f"record {record_id}: {reason}"
        return Rejection(file, line, reason)
    except RecordError as error:
        return Rejection(file, line, str(error))
    return paper


@dataclass(frozen=True)
class SalvagedList:
    """A JSON list too deep to decode whole, decoded item by item (see ``json_values``)."""

    items: list[ListItem]


def convert_items(
    values: list[object] | SalvagedList, file: str, to_paper: RecordConverter
) -> Iterator[Paper | Rejection]:
    """``convert_record`` for each item of a list; an item that could not be decoded
    becomes a rejection naming its id when it has one (1-based positions)."""
    items: list[object] | list[ListItem] = (
        values.items if isinstance(values, SalvagedList) else values
    )
    for position, value in enumerate(items, 1):
        if isinstance(value, ListItem):
            if value.problem is not None:
                named = f"record {value.record_id}: " if value.record_id else ""
                yield Rejection(file, position, named + value.problem)
                continue
            value = value.value
        yield convert_record(value, file, position, to_paper)


def describe_json_error(error: ValueError) -> str:
    """Say what is wrong with a line that ``json.loads`` refused."""
    if isinstance(error, json.JSONDecodeError):
        # Some messages end in "at" ("Invalid control character at"): say where once.
        return f"invalid JSON: {error.msg.removesuffix(' at')} at column {error.colno}"
    if isinstance(error, UnicodeDecodeError):
        return f"invalid UTF-8 at byte {error.start + 1}"
    return f"invalid JSON: {error}"


def read_json_records(path: Path, to_paper: RecordConverter) -> Iterator[Paper | Rejection]:
    """Read a JSON Lines file (plain or gzip), or a file holding one JSON list of records.

    Args:
        path: the file.
        to_paper: turns one record (a JSON object) into a ``Paper``, raising ``RecordError``.

    Yields:
        A ``Paper`` or a ``Rejection`` (1-based line, or list position) per record;
        blank lines are skipped.

    Raises:
        IngestError: the file cannot be opened or is truncated or corrupt.
    """
    file = str(path)
    is_list = first_character(read_head(path, _HEAD_SIZE)) == b"["
    with open_binary(path) as stream:
        line_number = 0
        try:
            if is_list:
                yield from _read_json_list(stream.read(), file, to_paper)
                return
            for line_number, line in enumerate(stream, 1):
                # json.loads takes bytes and decodes UTF-8 itself: no text layer to pay for.
                try:
                    value = loads(line)
                except ValueError as error:
                    if not line.isspace():
                        yield Rejection(file, line_number, describe_json_error(error))
                    continue
                yield convert_record(value, file, line_number, to_paper)
        except READ_ERRORS as error:
            raise IngestError(f"cannot read '{path}' after line {line_number}: {error}") from None


def parse_json_document(data: bytes, file: str) -> Any:
    """The JSON value in ``data``, or a ``Rejection`` naming the line where it breaks.

    A list nested too deep to decode whole comes back as a ``SalvagedList``; any other
    document too deep, as a ``Rejection``.
    """
    try:
        return loads(data)
    except JsonTooDeep as error:
        items = loads_list_items(data)
        return SalvagedList(items) if items is not None else Rejection(file, 1, str(error))
    except ValueError as error:
        line = error.lineno if isinstance(error, json.JSONDecodeError) else 1
        return Rejection(file, line, describe_json_error(error))


def _read_json_list(
    data: bytes, file: str, to_paper: RecordConverter
) -> Iterator[Paper | Rejection]:
    document = parse_json_document(data, file)
    if isinstance(document, Rejection):
        yield document
        return
    yield from convert_items(document, file, to_paper)
