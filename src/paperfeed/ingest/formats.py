"""Which reader a source needs: format detection by content, and ``read_source``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from paperfeed.ingest import (
    abstract_dataset,
    arxiv_listing,
    arxiv_snapshot,
    daily_papers_api,
    daily_papers_flat,
)
from paperfeed.ingest.errors import IngestError
from paperfeed.ingest.source_files import (
    PARQUET_MAGIC,
    first_character,
    is_tar_archive,
    open_binary,
    read_head,
)
from paperfeed.models import Paper, Rejection

Reader = Callable[[Path], Iterator[Paper | Rejection]]

_READERS: dict[str, Reader] = {
    arxiv_listing.FORMAT: arxiv_listing.read_arxiv_listing,
    daily_papers_api.FORMAT: daily_papers_api.read_daily_papers_api,
    daily_papers_flat.FORMAT: daily_papers_flat.read_daily_papers_flat,
    abstract_dataset.FORMAT: abstract_dataset.read_abstract_dataset,
    arxiv_snapshot.FORMAT: arxiv_snapshot.read_arxiv_snapshot,
}
FORMATS: tuple[str, ...] = tuple(_READERS)

# Files a folder is searched for; anything else in it (README, .DS_Store) is left alone.
SOURCE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".parquet", ".gz", ".tgz")
# Enough to hold the first record of any source we know (~2 KB for arXiv records).
_HEAD_SIZE = 1 << 20
# A few malformed lines at the top of a file should not hide its format.
_LINES_TRIED = 20
_DATASET_KEYS = frozenset({"id", "arxiv_id", "title", "abstract"})


def read_source(path: Path, format: str | None = None) -> Iterator[Paper | Rejection]:
    """Read a source file, or every source file in a folder (sorted by name).

    The path and the format are checked before this returns, so a missing file or
    an unknown format fails at the call, not at the first ``next``.

    Args:
        path: a file, or a folder of files (day files, monthly listings).
        format: one of ``FORMATS``; detected from each file's content when ``None``.

    Returns:
        An iterator of ``Paper`` records and ``Rejection``\\ s, in file order.

    Raises:
        IngestError: the path does not exist, the format is unknown or cannot be
            detected, or a folder holds no source files.
    """
    path = Path(path)
    if format is not None and format not in _READERS:
        raise IngestError(f"unknown format '{format}' (expected one of: {', '.join(FORMATS)})")
    files = _list_source_files(path)
    plan = [(file, format or detect_format(file)) for file in files]
    return _read_files(plan)


def detect_format(path: Path) -> str:
    """Tell a source's format from its content: the keys of its first record.

    A folder gets the format of its first source file; a tar archive that of its
    first day file; Parquet files and CSV files are abstract datasets.

    Args:
        path: a source file or folder.

    Returns:
        One of ``FORMATS``.

    Raises:
        IngestError: the path does not exist, is empty, or matches no format.
    """
    path = Path(path)
    if path.is_dir():
        return detect_format(_list_source_files(path)[0])
    if not path.exists():
        raise IngestError(f"no such file or directory: '{path}'")
    head = read_head(path, _HEAD_SIZE)
    if head.startswith(PARQUET_MAGIC):
        return abstract_dataset.FORMAT
    if is_tar_archive(head):
        return _detect_archive_format(path)
    start = first_character(head)
    try:
        if start == b"[":
            return _classify_record(path, _first_list_entry(path, head))
        if start == b"{":
            return _classify_json_lines(path, head)
    except IngestError:
        # Content first, the name second: a file named after a day is a day file even
        # when empty ("[]") or malformed, and its reader says which entries are bad.
        if daily_papers_api.day_in_name(path.name) is not None:
            return daily_papers_api.FORMAT
        raise
    if _is_dataset_header(head):
        return abstract_dataset.FORMAT
    if not start:
        raise IngestError(f"'{path}' is empty: cannot tell its format")
    raise IngestError(
        f"'{path}' is neither JSON, JSON Lines, CSV, Parquet nor a tar archive "
        f"(it starts with {head[:20]!r})"
    )


def _read_files(plan: Iterable[tuple[Path, str]]) -> Iterator[Paper | Rejection]:
    for file, format in plan:
        yield from _READERS[format](file)


def _list_source_files(path: Path) -> list[Path]:
    if not path.exists():
        raise IngestError(f"no such file or directory: '{path}'")
    if not path.is_dir():
        return [path]
    files = sorted(
        file
        for file in path.iterdir()
        if file.is_file()
        and not file.name.startswith(".")
        and file.name.lower().endswith(SOURCE_SUFFIXES)
    )
    if not files:
        raise IngestError(
            f"folder '{path}' holds no source files (looked for {', '.join(SOURCE_SUFFIXES)})"
        )
    return files


def _detect_archive_format(path: Path) -> str:
    entry = daily_papers_api.read_first_archive_entry(path)
    if entry is None:
        raise IngestError(f"archive '{path}' holds no day files (*.json) with entries")
    found = _classify_record(path, entry)
    if found != daily_papers_api.FORMAT:
        raise IngestError(
            f"archive '{path}' holds {found} records; only {daily_papers_api.FORMAT} day "
            "files are read from archives"
        )
    return found


def _classify_json_lines(path: Path, head: bytes) -> str:
    """Classify by the first lines' JSON objects.

    A record holding only an id, a title and an abstract fits every format, so it
    only decides for ``abstract-dataset`` when no other line names a richer format.
    """
    first_error: IngestError | None = None
    fallback: str | None = None
    for line in head.splitlines()[:_LINES_TRIED]:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        try:
            found = _classify_record(path, record)
        except IngestError as error:
            first_error = first_error or error
            continue
        if found != abstract_dataset.FORMAT:
            return found
        fallback = found
    if fallback is not None:
        return fallback
    raise first_error or IngestError(
        f"'{path}' starts like JSON Lines but its first lines hold no JSON object"
    )


def _first_list_entry(path: Path, head: bytes) -> object:
    """The first element of the JSON list ``path`` holds, or None for an empty list."""
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace").lstrip()[1:]
    text = text.lstrip()
    if text.startswith("]"):
        return None
    try:
        return json.JSONDecoder().raw_decode(text)[0]
    except ValueError:
        if len(head) < _HEAD_SIZE:
            raise IngestError(f"'{path}' starts like a JSON list but is not valid JSON") from None
    # The first entry is longer than the head: read the whole file.
    with open_binary(path) as stream:
        try:
            document = json.loads(stream.read())
        except ValueError as error:
            raise IngestError(f"'{path}' is not valid JSON: {error}") from None
    return document[0] if isinstance(document, list) and document else None


def _is_dataset_header(head: bytes) -> bool:
    first_line = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace")
    columns = {column.strip().strip('"') for column in first_line.split(",")}
    return bool(columns & {"arxiv_id", "id"}) and bool(columns & {"abstract", "title"})


def _classify_record(path: Path, record: object) -> str:
    if record is None:
        raise IngestError(f"'{path}' holds no records: cannot tell its format")
    if not isinstance(record, Mapping):
        raise IngestError(
            f"cannot tell the format of '{path}': its first record is not a JSON object"
        )
    keys = set(record)
    if "versions" in keys and ("authors_parsed" in keys or "update_date" in keys):
        return arxiv_snapshot.FORMAT
    if isinstance(record.get("paper"), Mapping):
        return daily_papers_api.FORMAT
    if keys & {"daily_date", "upvotes", "submitted_on_daily_at"}:
        return daily_papers_flat.FORMAT
    if keys & {"listed_dates", "first_listed"}:
        return arxiv_listing.FORMAT
    if "arxiv_id" in keys or ("id" in keys and keys <= _DATASET_KEYS):
        return abstract_dataset.FORMAT
    raise IngestError(
        f"cannot tell the format of '{path}' from its first record's keys "
        f"({', '.join(sorted(keys)) or 'none'}); pass one of: {', '.join(FORMATS)}"
    )
