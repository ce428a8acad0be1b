"""``(arxiv_id, abstract)`` datasets, as published for retrieval research: CSV, JSONL, Parquet.

Columns: ``arxiv_id`` (or ``id``), ``abstract`` and optionally ``title``; other
columns are ignored. Ids may carry a version (``2101.00436v3``). CSV rows and
Parquet rows are numbered from 1 for rejections: a CSV row by the file line it
starts on (the header is line 1), a Parquet row by its position. Parquet needs the
optional ``pyarrow`` dependency (``pip install 'paperfeed[parquet]'``) and is read
one record batch at a time, so a large file is never held in memory whole.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperfeed.ingest.errors import IngestError
from paperfeed.ingest.records import (
    Record,
    convert_record,
    read_arxiv_id,
    read_json_records,
    read_text,
    require_text,
)
from paperfeed.ingest.source_files import (
    PARQUET_MAGIC,
    READ_ERRORS,
    first_character,
    open_binary,
    read_head,
)
from paperfeed.models import Paper, Rejection

FORMAT = "abstract-dataset"
SOURCE = "abstract-dataset"

ID_COLUMNS = ("arxiv_id", "id")
TEXT_COLUMNS = ("title", "abstract")
_PARQUET_BATCH_ROWS = 8192
_HEAD_SIZE = 4096
_UTF8_BOM = b"\xef\xbb\xbf"
# how much of the columns found an error shows
_PREVIEW_COLUMNS = 10
_PREVIEW_NAME_LENGTH = 40


def read_abstract_dataset(path: Path) -> Iterator[Paper | Rejection]:
    """Read an abstract dataset file: Parquet, JSON Lines or CSV (told apart by content).

    Args:
        path: a ``.parquet``, ``.jsonl`` or ``.csv`` file (JSONL and CSV may be gzip).

    Yields:
        A ``Paper`` per valid row, a ``Rejection`` per invalid one.

    Raises:
        IngestError: the file cannot be read, lacks an id column, or is Parquet and
            pyarrow is not installed.
    """
    head = read_head(path, _HEAD_SIZE)
    if head.startswith(PARQUET_MAGIC):
        return _read_parquet(path)
    if first_character(head) in (b"{", b"["):
        return read_json_records(path, _dataset_record_to_paper)
    return _read_csv(path)


def _dataset_record_to_paper(record: Record) -> Paper:
    id_column = "arxiv_id" if "arxiv_id" in record else "id"
    arxiv_id = read_arxiv_id(record, id_column)
    title = read_text(record, "title")
    abstract = read_text(record, "abstract")
    require_text(title, abstract)
    return Paper(arxiv_id=arxiv_id, title=title, abstract=abstract, sources=[SOURCE])


def _column_preview(columns: Sequence[str]) -> str:
    """The first columns found, each cut short: a file that is not a CSV at all (a
    tarball, a JSON document) reads as one header 'column' of megabytes."""
    shown = []
    for name in columns[:_PREVIEW_COLUMNS]:
        cut = name if len(name) <= _PREVIEW_NAME_LENGTH else name[:_PREVIEW_NAME_LENGTH] + "…"
        shown.append(cut if cut.isprintable() else repr(cut))  # NULs, escapes: escaped
    more = len(columns) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "") if shown else "none"


def _choose_columns(path: Path, columns: Sequence[str]) -> list[str]:
    """Pick the id column and the text columns present, or refuse the file."""
    id_column = next((name for name in ID_COLUMNS if name in columns), None)
    if id_column is None:
        raise IngestError(
            f"'{path}' has no 'arxiv_id' or 'id' column (columns: {_column_preview(columns)})"
        )
    text_columns = [name for name in TEXT_COLUMNS if name in columns]
    if not text_columns:
        raise IngestError(
            f"'{path}' has no 'abstract' or 'title' column (columns: {_column_preview(columns)})"
        )
    return [id_column, *text_columns]


@dataclass
class _LineTape:
    """Lines handed to ``csv.reader``: how many, and whether it asked for one past the last."""

    count: int = 0
    exhausted: bool = False


def _decoded_lines(path: Path, stream: Iterable[bytes], tape: _LineTape) -> Iterator[str]:
    """The lines of ``stream`` as text, decoded one line at a time.

    A text layer decodes ahead of the csv reader in chunks, so its error came from a
    line thousands after the row being read; decoded here, a bad byte is named by its own
    line. Lines end at ``\n``, ``\r\n`` or ``\r`` (kept, as csv wants), as in a text
    layer opened with ``newline=""``; no UTF-8 character holds those bytes.
    """
    for chunk in stream:
        for raw in chunk.splitlines(keepends=True):
            tape.count += 1
            if tape.count == 1:
                raw = raw.removeprefix(_UTF8_BOM)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise IngestError(f"cannot read '{path}' at line {tape.count}: {error}") from None
    tape.exhausted = True


def _read_csv(path: Path) -> Iterator[Paper | Rejection]:
    file = str(path)
    with open_binary(path) as stream:
        tape = _LineTape()
        reader = csv.reader(_decoded_lines(path, stream, tape))
        line_number = 1
        try:
            header = next(reader, None)
            if header is None:
                return
            columns = [name.strip() for name in header]
            _choose_columns(path, columns)
            line_number = reader.line_num + 1
            for row in reader:
                if tape.exhausted:
                    # A row is only made after the last line when a quoted field never
                    # closed: csv (not strict) then hands the rest of the file over as
                    # that one field, so one stray '"' would glue every later row into
                    # one abstract. Refused before that row is yielded, like a file cut
                    # short: batches stored before it stay, the rest are not stored.
                    raise IngestError(
                        f"cannot read '{path}': the row on line {line_number} opens a "
                        f'quoted field (") that never closes'
                    )
                if row:
                    record = dict(zip(columns, row, strict=False))
                    yield convert_record(record, file, line_number, _dataset_record_to_paper)
                line_number = reader.line_num + 1
        except (csv.Error, *READ_ERRORS) as error:
            raise IngestError(f"cannot read '{path}' at line {line_number}: {error}") from None


def _import_parquet(path: Path) -> Any:
    try:
        import pyarrow.parquet
    except ImportError:
        raise IngestError(
            f"reading the Parquet file '{path}' needs pyarrow: pip install 'paperfeed[parquet]'"
        ) from None
    return pyarrow.parquet


def _read_parquet(path: Path) -> Iterator[Paper | Rejection]:
    parquet = _import_parquet(path)
    import pyarrow

    file = str(path)
    try:
        parquet_file = parquet.ParquetFile(path)
        columns = _choose_columns(path, parquet_file.schema_arrow.names)
        row_number = 0
        for batch in parquet_file.iter_batches(batch_size=_PARQUET_BATCH_ROWS, columns=columns):
            values = [batch.column(index).to_pylist() for index in range(len(columns))]
            for row in zip(*values, strict=True):
                row_number += 1
                record = dict(zip(columns, row, strict=True))
                yield convert_record(record, file, row_number, _dataset_record_to_paper)
    except (pyarrow.ArrowException, *READ_ERRORS) as error:
        raise IngestError(f"cannot read Parquet file '{path}': {error}") from None
