"""Validation shared by the format readers: one record in, one ``Paper`` or ``Rejection`` out.

A record is rejected, never fixed up, when it is not valid JSON, is not an object,
has no id or one ``normalize_arxiv_id`` refuses, has neither title nor abstract, or
has a field of the wrong type. Counts (upvotes, comments, stars) must be
non-negative whole numbers; JSON numbers like ``12.0`` and numeric strings like
``"12"`` are accepted because exporters (pandas, spreadsheets) write them so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from paperfeed.ingest.errors import IngestError
from paperfeed.ingest.identifiers import normalize_arxiv_id
from paperfeed.ingest.source_files import READ_ERRORS, first_character, open_binary, read_head
from paperfeed.models import Paper, Rejection

Record = Mapping[str, object]
RecordConverter = Callable[[Record], Paper]

_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}")
_LONGEST_QUOTED_VALUE = 80
_HEAD_SIZE = 4096
_JSON_TYPE_NAMES = {dict: "object", list: "list", str: "str", int: "int", float: "float"}


class RecordError(ValueError):
    """One record cannot become a ``Paper``; the message is the rejection reason."""


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
    if count is None:
        shown = quote(value) if isinstance(value, str) else str(value)
        raise RecordError(
            f"field '{label or key}' must be a non-negative whole number, "
            f"got {describe_type(value)} {shown}"
        )
    return count


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

    Raises:
        RecordError: the value is not a string starting with an ISO date.
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
    return value[:10]


def require_text(title: str | None, abstract: str | None) -> None:
    """Refuse a record that has neither a title nor an abstract: nothing to show or search.

    Raises:
        RecordError: both are missing or blank.
    """
    if title is None and abstract is None:
        raise RecordError("no title and no abstract")


def convert_record(
    value: object, file: str, line: int, to_paper: RecordConverter
) -> Paper | Rejection:
    """Turn one parsed JSON value into a ``Paper``, or a ``Rejection`` saying why not."""
    if not isinstance(value, dict):
        return Rejection(file, line, f"record is not a JSON object, got {describe_type(value)}")
    try:
        return to_paper(value)
    except RecordError as error:
        return Rejection(file, line, str(error))


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
                    value = json.loads(line)
                except ValueError as error:
                    if not line.isspace():
                        yield Rejection(file, line_number, describe_json_error(error))
                    continue
                yield convert_record(value, file, line_number, to_paper)
        except READ_ERRORS as error:
            raise IngestError(f"cannot read '{path}' after line {line_number}: {error}") from None


def parse_json_document(data: bytes, file: str) -> Any:
    """The JSON value in ``data``, or a ``Rejection`` naming the line where it breaks."""
    try:
        return json.loads(data)
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
    for position, value in enumerate(document, 1):
        yield convert_record(value, file, position, to_paper)
