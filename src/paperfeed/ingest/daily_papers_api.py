"""The daily-papers API wire format: one JSON list of entries per day.

``GET /api/daily_papers?date=YYYY-MM-DD`` returns a list of entries
``{paper: {id, title, summary, authors: [{name, …}], publishedAt, submittedOnDailyAt,
upvotes, githubRepo, githubStars, projectPage, organization: {name, fullname}, …},
title, summary, publishedAt, numComments, submittedBy: {name, fullname, …},
organization, …}``. We read a single day file (``2025-06-02.json``, plain or gzip) or
a tar archive of them, streamed member by member without extracting to disk.

Choices, made so that a paper reads the same as in the flattened export
(``daily_papers_flat``) of the same data: the title is the entry's (arXiv's text)
before the paper's (LaTeX stripped, rewrapped); the daily date is the day the file is
named after (``submittedOnDailyAt`` only when the name has no date: it can fall on
another day); ``organization`` is the display name (``fullname``); ``submitted_by``
is the user handle (``name``).
"""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path, PurePosixPath

from paperfeed.calendar_dates import is_calendar_date
from paperfeed.ingest.errors import IngestError
from paperfeed.ingest.records import (
    Record,
    RecordError,
    SalvagedList,
    convert_items,
    describe_type,
    parse_json_document,
    quote,
    read_arxiv_id,
    read_count,
    read_date,
    read_string_list,
    read_text,
    require_text,
)
from paperfeed.ingest.source_files import READ_ERRORS, is_tar_archive, open_binary, read_head
from paperfeed.models import Paper, Rejection, SourceAccount

FORMAT = "daily-papers-api"
SOURCE = "daily-papers"

_DAY_IN_NAME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})\.json(?:\.gz)?$")
_ORGANIZATION_NAME_KEYS = ("fullname", "name")
_USER_NAME_KEYS = ("name", "user", "fullname")
_TAR_HEADER_SIZE = 512
# The keys of a user or organisation object kept with it: who it is and how it is shown.
# Counts and the viewer's own flags (followerCount, isUserFollowing) change by the hour
# or by the reader, so they are not kept as if they were facts about the account.
_USER_PROFILE_KEYS = ("_id", "avatarUrl", "fullname", "name", "user", "type")
_USER_FLAG_KEYS = ("isPro", "isHf", "isHfAdmin", "isMod")
_ORGANIZATION_PROFILE_KEYS = ("_id", "name", "fullname", "avatar")


def read_daily_papers_api(path: Path) -> Iterator[Paper | Rejection]:
    """Read one day file or a tar archive (plain or gzip) of day files.

    Args:
        path: e.g. ``2025-06-02.json`` or ``daily_papers_api.tar.gz``.

    Yields:
        A ``Paper`` per entry and a ``Rejection`` per invalid one; its line is the
        entry's 1-based position in its day file and its file names the archive
        member as ``archive.tar.gz:daily_papers/2025-03-03.json``.

    Raises:
        IngestError: the file cannot be read, or the archive is corrupt.
    """
    if is_tar_archive(read_head(path, _TAR_HEADER_SIZE)):
        return _read_archive(path)
    return _read_day_file_at(path)


def read_first_archive_entry(path: Path) -> object:
    """Return the first entry of the first non-empty day file in a tar archive, or None.

    Used to sniff an archive's format without reading all of it; members that are
    not JSON lists are passed over.
    """
    try:
        with tarfile.open(path, "r|*") as archive:
            for member in archive:
                data = _read_day_member(archive, member)
                try:
                    document = json.loads(data) if data is not None else None
                except ValueError:
                    continue
                if isinstance(document, list) and document:
                    return document[0]
    except (tarfile.TarError, *READ_ERRORS) as error:
        raise IngestError(f"cannot read archive '{path}': {error}") from None
    return None


def day_in_name(name: str) -> str | None:
    """The ``YYYY-MM-DD`` a day file is named after (``2025-06-02.json``), or None."""
    match = _DAY_IN_NAME.search(name)
    return match.group(1) if match is not None else None


def _read_day_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes | None:
    """The bytes of a ``*.json`` archive member; None for folders, READMEs and the like.

    Names starting with a dot are skipped: macOS tar adds ``._2025-06-02.json``
    metadata files next to the real ones.
    """
    name = PurePosixPath(member.name).name
    if not member.isfile() or name.startswith(".") or not name.endswith(".json"):
        return None
    stream = archive.extractfile(member)
    return stream.read() if stream is not None else None


def _read_archive(path: Path) -> Iterator[Paper | Rejection]:
    # "r|*" reads the archive as a stream: members come in archive order, one at a time.
    try:
        with tarfile.open(path, "r|*") as archive:
            for member in archive:
                data = _read_day_member(archive, member)
                if data is not None:
                    yield from _read_day_file(
                        data, f"{path}:{member.name}", day_in_name(member.name)
                    )
    except (tarfile.TarError, *READ_ERRORS) as error:
        raise IngestError(f"cannot read archive '{path}': {error}") from None


def _read_day_file_at(path: Path) -> Iterator[Paper | Rejection]:
    with open_binary(path) as stream:
        try:
            data = stream.read()
        except READ_ERRORS as error:
            raise IngestError(f"cannot read '{path}': {error}") from None
    return _read_day_file(data, str(path), day_in_name(path.name))


def _read_day_file(data: bytes, file: str, day: str | None) -> Iterator[Paper | Rejection]:
    document = parse_json_document(data, file)
    if isinstance(document, Rejection):
        yield document
        return
    if not isinstance(document, list | SalvagedList):
        yield Rejection(
            file, 1, f"a day file must hold a JSON list of entries, got {describe_type(document)}"
        )
        return
    yield from read_day_entries(document, file, day)


def read_day_entries(
    entries: list[object] | SalvagedList, file: str, day: str | None
) -> Iterator[Paper | Rejection]:
    """Turn one day's parsed list of entries (an API response) into papers.

    Args:
        entries: the JSON list ``/api/daily_papers?date=`` answered (item by item
            when it was too deep to decode whole).
        file: names the response in rejections (a file name or the URL).
        day: the day asked for, ``YYYY-MM-DD`` (the papers' daily date).

    Yields:
        A ``Paper`` per entry, a ``Rejection`` (1-based position) per invalid one.
    """
    yield from convert_items(entries, file, partial(_entry_to_paper, day=day))


def _entry_to_paper(entry: Record, day: str | None) -> Paper:
    if day is not None and not is_calendar_date(day):
        # the day a file is named after is every entry's daily date: with no such day,
        # each entry is rejected (and counted) as one with a bad date field would be
        raise RecordError(f"daily date {quote(day)} (the day file's name) is not a calendar date")
    paper = entry.get("paper")
    if paper is None:
        raise RecordError("missing field 'paper'")
    if not isinstance(paper, dict):
        raise RecordError(f"field 'paper' must be an object, got {describe_type(paper)}")
    arxiv_id = read_arxiv_id(paper, "id", "paper.id")
    # The entry's title is arXiv's own (LaTeX kept, unwrapped); the paper's is a
    # rewrapped copy with the LaTeX stripped ("nabla^2DFT" for "$\\nabla^2$DFT").
    title = read_text(entry, "title") or read_text(paper, "title", "paper.title")
    abstract = read_text(paper, "summary", "paper.summary") or read_text(entry, "summary")
    require_text(title, abstract)
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=_read_author_names(paper.get("authors")),
        published=read_date(paper, "publishedAt", "paper.publishedAt")
        or read_date(entry, "publishedAt"),
        daily_date=day or read_date(paper, "submittedOnDailyAt", "paper.submittedOnDailyAt"),
        upvotes=read_count(paper, "upvotes", "paper.upvotes"),
        num_comments=read_count(entry, "numComments"),
        organization=_read_account_name(
            paper, "organization", "paper.organization", _ORGANIZATION_NAME_KEYS
        )
        or _read_account_name(entry, "organization", "organization", _ORGANIZATION_NAME_KEYS),
        submitted_by=_read_account_name(entry, "submittedBy", "submittedBy", _USER_NAME_KEYS)
        or _read_account_name(
            paper, "submittedOnDailyBy", "paper.submittedOnDailyBy", _USER_NAME_KEYS
        ),
        github_repo=read_text(paper, "githubRepo", "paper.githubRepo"),
        github_stars=read_count(paper, "githubStars", "paper.githubStars"),
        project_page=read_text(paper, "projectPage", "paper.projectPage"),
        # the original site's own AI summary and keywords, kept as given (newer responses)
        ai_summary=read_text(paper, "ai_summary", "paper.ai_summary"),
        ai_keywords=read_string_list(paper, "ai_keywords", "paper.ai_keywords") or None,
        sources=[SOURCE],
        accounts=_read_accounts(entry, paper),
    )


def _profile(value: object, keys: Sequence[str], flags: Sequence[str] = ()) -> dict[str, object]:
    """The kept keys of an account object (text values, and true/false flags)."""
    if not isinstance(value, dict):
        return {}
    kept: dict[str, object] = {}
    for key in keys:
        text = value.get(key)
        if isinstance(text, str) and text.strip():
            kept[key] = text
    for key in flags:
        flag = value.get(key)
        if isinstance(flag, bool):
            kept[key] = flag
    return kept


def _read_accounts(entry: Record, paper: Record) -> list[SourceAccount]:
    """The submitter and organisation objects; the entry's and the paper's copies of an
    object are merged, the entry's winning."""
    return described_accounts(
        (paper.get("submittedOnDailyBy"), entry.get("submittedBy")),
        (paper.get("organization"), entry.get("organization")),
    )


def described_accounts(
    users: Sequence[object], organizations: Sequence[object]
) -> list[SourceAccount]:
    """A paper's submitter and organisation as the source described them (objects of the
    original's shape, ``{_id, avatarUrl, fullname, name, ...}``; anything else is passed
    over), keyed as papers name them: a user by handle, an organisation by display name.
    Each object's kept keys are merged, a later object's winning."""
    accounts = []
    user: dict[str, object] = {}
    for value in users:
        user |= _profile(value, _USER_PROFILE_KEYS, _USER_FLAG_KEYS)
    handle = next((user[key] for key in _USER_NAME_KEYS if key in user), None)
    if isinstance(handle, str):
        accounts.append(SourceAccount("user", handle, user))
    organization: dict[str, object] = {}
    for value in organizations:
        organization |= _profile(value, _ORGANIZATION_PROFILE_KEYS)
    display = next(
        (organization[key] for key in _ORGANIZATION_NAME_KEYS if key in organization), None
    )
    if isinstance(display, str):
        accounts.append(SourceAccount("organization", display, organization))
    return accounts


def _read_author_names(value: object) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise RecordError(
            f"field 'paper.authors' must be a list of author objects, got {describe_type(value)}"
        )
    names = []
    for author in value:
        name = author.get("name") if isinstance(author, dict) else author
        if not isinstance(name, str):
            raise RecordError(
                "field 'paper.authors' must be a list of objects with a 'name' string, "
                f"got {'an author named by' if isinstance(author, dict) else 'a list holding'} "
                f"{describe_type(name)}"
            )
        names.append(name)
    return names


def _read_account_name(record: Record, key: str, label: str, keys: Sequence[str]) -> str | None:
    """Name an organisation or user given as an object (first non-blank of ``keys``) or string."""
    value = record.get(key)
    if isinstance(value, dict):
        for name_key in keys:
            name = read_text(value, name_key, f"{label}.{name_key}")
            if name is not None:
                return name
        return None
    if value is None or isinstance(value, str):
        return read_text(record, key, label)
    raise RecordError(f"field '{label}' must be an object or a string, got {describe_type(value)}")
