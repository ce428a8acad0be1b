"""``paperfeed backup`` and ``paperfeed restore``: a consistent copy of a running install.

A backup is a folder::

    paperfeed-backup.json   what it holds: format, version, schema, counts, settings
    paperfeed.db            the SQLite database (SQLite's online backup API), or
    database.pgdump         a ``pg_dump --format=custom`` of PostgreSQL (when pg_dump is
                            on PATH; otherwise the manifest says how to make one)
    index/                  the index folder
    secret_key              only with ``--include-secrets``

Consistency while the server writes: the index is copied first and checked unchanged
(every index file is written by an atomic replace, so a file's inode, size and mtime
change when it does; a copy that saw a change is made again), then the database is
copied as one snapshot. The index is thus never ahead of the database, and an index that
is behind is brought up to date by ``paperfeed index`` (it follows the store's change
sequence). A backup is written to a hidden folder beside its destination and renamed
into place, so a backup killed midway leaves the previous backup (or none), never a
torn one.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from paperfeed import __version__
from paperfeed.config import Settings
from paperfeed.operations.libpq import libpq_target
from paperfeed.store import schema
from paperfeed.store.database import create_database_engine
from paperfeed.store.migrations import applied_versions

MANIFEST = "paperfeed-backup.json"
FORMAT = 1
SQLITE_FILE = "paperfeed.db"
PG_DUMP_FILE = "database.pgdump"
INDEX_FOLDER = "index"
SECRET_FILE = "secret_key"
# the database kinds a manifest names, and the file each brings ("" for none)
DATABASE_FILES = {
    "sqlite": SQLITE_FILE,
    "postgresql (pg_dump)": PG_DUMP_FILE,
    "postgresql (not included)": "",
}
INDEX_COPY_ATTEMPTS = 5
# settings that are secrets: left out of the manifest unless --include-secrets
SECRET_SETTINGS = ("secret_key", "smtp_password")
COUNTED_TABLES = ("papers", "users", "votes", "comments", "collections", "subscriptions")

Signature = dict[str, tuple[int, int, int]]


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message names the folder or value."""


@dataclass(frozen=True)
class BackupReport:
    """What a backup or restore did."""

    folder: Path
    database: str  # "sqlite", "postgresql (pg_dump)", or "postgresql (not included)"
    index_files: int
    counts: dict[str, int]
    notes: tuple[str, ...] = ()  # worth knowing on every run (no secrets copied)
    warnings: tuple[str, ...] = ()  # something is missing from the result (no database)


def is_sqlite(settings: Settings) -> bool:
    return make_url(settings.database_url).get_backend_name() == "sqlite"


def sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    if not database or database == ":memory:":
        raise BackupError(f"{settings.database_url!r} is not a database file that can be copied")
    return Path(database).expanduser()


def _redacted_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def settings_manifest(settings: Settings, include_secrets: bool) -> dict[str, Any]:
    """The settings as JSON; secrets are left out (named) unless asked for."""
    values = {
        key: str(value) if isinstance(value, Path) else value
        for key, value in asdict(settings).items()
    }
    values["database_url"] = (
        settings.database_url if include_secrets else _redacted_url(settings.database_url)
    )
    for key in SECRET_SETTINGS:
        if not include_secrets:
            values[key] = "(left out; back up with --include-secrets)" if values[key] else ""
    return values


def count_rows(engine: Engine) -> dict[str, int]:
    """Rows of the tables whose loss a user would notice (those this schema has)."""
    counts = {}
    present = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        for name in COUNTED_TABLES:
            if name in present:
                table = schema.metadata.tables[name]
                counts[name] = int(connection.scalar(select(func.count()).select_from(table)) or 0)
    return counts


def sqlite_counts(path: Path) -> dict[str, int]:
    """``count_rows`` of a SQLite file, read without changing it (no WAL switch)."""
    connection = sqlite3.connect(path)
    try:
        present = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        return {
            name: int(connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
            for name in COUNTED_TABLES
            if name in present
        }
    finally:
        connection.close()


# -- copying the index ------------------------------------------------------------------


def _signature(folder: Path) -> Signature:
    found: Signature = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.endswith(".tmp") and ".tmp" not in path.parts[-2:]:
            stat = path.stat()
            found[str(path.relative_to(folder))] = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return found


def _copy_files(source: Path, target: Path, names: list[str]) -> None:
    for name in names:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, destination)


def copy_index(source: Path, target: Path) -> int:
    """Copy the index folder ``source`` to ``target`` as one consistent state.

    Returns:
        The number of files copied.

    Raises:
        BackupError: the index kept changing through every attempt.
    """
    for _attempt in range(INDEX_COPY_ATTEMPTS):
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        before = _signature(source)
        try:
            _copy_files(source, target, list(before))
        except FileNotFoundError:  # replaced or cleaned up while we copied: again
            continue
        if _signature(source) == before:
            return len(before)
        time.sleep(0.2)
    raise BackupError(
        f"the index folder {str(source)!r} changed during each of {INDEX_COPY_ATTEMPTS} "
        "copies (an index update is running): try again when it has finished"
    )


# -- making a backup ----------------------------------------------------------------------


def _sqlite_snapshot(settings: Settings, target: Path) -> None:
    """One consistent copy through SQLite's online backup API (readers and writers go on;
    in WAL mode the copy is one read transaction)."""
    source_path = sqlite_path(settings)
    if not source_path.exists():
        raise BackupError(f"there is no database at {str(source_path)!r} to back up")
    source = sqlite3.connect(source_path, timeout=30)
    destination = sqlite3.connect(target)
    try:
        with destination:
            source.backup(destination)
        destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        destination.close()
        source.close()


def _pg_dump(settings: Settings, target: Path) -> bool:
    """``pg_dump --format=custom`` into ``target`` when pg_dump is on PATH."""
    program = shutil.which("pg_dump")
    if program is None:
        return False
    database, environment = libpq_target(settings.database_url)
    done = subprocess.run(
        [program, "--format=custom", "--no-owner", "--file", str(target),
         "--dbname", database],
        capture_output=True,
        text=True,
        env=environment,
    )  # fmt: skip
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip() or done.returncode}")
    return True


def _partial_folders(destination: Path) -> list[Path]:
    return sorted(destination.parent.glob(f".{destination.name}.partial-*"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(destination: Path) -> list[Path]:
    """Delete what killed backups to ``destination`` left (their process is gone)."""
    removed = []
    for folder in _partial_folders(destination) + sorted(
        destination.parent.glob(f".{destination.name}.old-*")
    ):
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of the backup in ``folder``.

    Raises:
        BackupError: naming the folder, when it is not a complete paperfeed backup.
    """
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupError(f"{str(folder)!r} is not a folder, so not a paperfeed backup")
    if not path.is_file():
        raise BackupError(f"{str(folder)!r} is not a paperfeed backup (it has no {MANIFEST})")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{str(path)!r} is not a backup manifest (not JSON)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(
            f"{str(path)!r} is not a paperfeed backup manifest of format {FORMAT} "
            f"(format {manifest.get('format') if isinstance(manifest, dict) else None!r})"
        )
    incomplete = f"the backup {str(folder)!r} is incomplete"
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BackupError(f"{incomplete}: its manifest lists no files")
    database = manifest.get("database")
    if database not in DATABASE_FILES:
        raise BackupError(
            f"{incomplete}: its manifest names no database ('database' is {database!r}, "
            f"expected one of {', '.join(map(repr, DATABASE_FILES))})"
        )
    required = DATABASE_FILES[database]  # listed, then checked with the others below
    if required and required not in files:
        raise BackupError(f"{incomplete}: {required!r} is missing")
    for name, size in files.items():
        present = folder / name
        if not present.is_file():
            raise BackupError(f"{incomplete}: {name!r} is missing")
        if present.stat().st_size != size:
            raise BackupError(
                f"{incomplete}: {name!r} is {present.stat().st_size:,} bytes, "
                f"its manifest says {size:,}"
            )
    return manifest


def _file_sizes(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): path.stat().st_size
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def create_backup(
    settings: Settings,
    destination: Path,
    include_secrets: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> BackupReport:
    """Back up the install of ``settings`` into the folder ``destination``.

    An earlier backup in ``destination`` is replaced only once the new one is complete.

    Raises:
        BackupError: ``destination`` holds something that is not a backup, the
            database cannot be read, or pg_dump failed.
    """
    step = on_step or (lambda _text: None)
    destination = destination.expanduser().absolute()
    if destination.exists():
        if not destination.is_dir():
            raise BackupError(f"{str(destination)!r} exists and is not a folder")
        if any(destination.iterdir()) and not (destination / MANIFEST).exists():
            raise BackupError(
                f"{str(destination)!r} is not empty and not a paperfeed backup: "
                "choose another folder (nothing was written)"
            )
    staging = destination.parent / f".{destination.name}.partial-{os.getpid()}"
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(destination)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
    except OSError as error:  # a file where a folder must be, a read-only or virtual one
        raise BackupError(
            f"cannot write a backup to {str(destination)!r}: {_os_reason(error)} "
            "(nothing was written)"
        ) from None
    notes: list[str] = []
    warnings: list[str] = []
    try:
        if is_sqlite(settings) and not sqlite_path(settings).exists():
            raise BackupError(f"there is no database at {str(sqlite_path(settings))!r} to back up")
        # not Store(): opening a store migrates it, and a backup must copy what is there
        engine = create_database_engine(settings.database_url)
        try:
            versions = sorted(applied_versions(engine))
            index_files = 0
            if settings.index_dir.is_dir():
                step(f"copying the index {settings.index_dir}")
                index_files = copy_index(settings.index_dir, staging / INDEX_FOLDER)
            # the database after the index: the index is never ahead of it
            if is_sqlite(settings):
                step(f"copying the database {sqlite_path(settings)}")
                _sqlite_snapshot(settings, staging / SQLITE_FILE)
                database = "sqlite"
                counts = sqlite_counts(staging / SQLITE_FILE)
            else:
                counts = count_rows(engine)
                step("dumping the PostgreSQL database with pg_dump")
                if _pg_dump(settings, staging / PG_DUMP_FILE):
                    database = "postgresql (pg_dump)"
                else:
                    database = "postgresql (not included)"
                    warnings.append(
                        "pg_dump is not on PATH: the database is not in this backup; run "
                        "pg_dump --format=custom --file paperfeed.pgdump "
                        f"{_redacted_url(settings.database_url)}"
                    )
        except (DatabaseError, sqlite3.DatabaseError) as error:  # not SQLite, truncated
            raise BackupError(
                f"cannot read the database {_redacted_url(settings.database_url)}: "
                f"{getattr(error, 'orig', None) or error} (nothing was written)"
            ) from None
        finally:
            engine.dispose()
        secret_included = False
        if include_secrets:
            key_file = settings.home / SECRET_FILE
            if key_file.is_file():
                shutil.copy2(key_file, staging / SECRET_FILE)
                os.chmod(staging / SECRET_FILE, 0o600)
                secret_included = True
            secret_included = secret_included or bool(settings.secret_key)
        else:
            notes.append(
                "the secret key is not in the backup (--include-secrets adds it): keep "
                f"{settings.home / SECRET_FILE} or PAPERFEED_SECRET_KEY safe, or signed "
                "links and sessions stop working after a restore elsewhere"
            )
        manifest = {
            "format": FORMAT,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "paperfeed_version": __version__,
            "database": database,
            "schema_versions": versions,
            "counts": counts,
            "index": index_files > 0,
            "secrets_included": secret_included,
            "settings": settings_manifest(settings, include_secrets),
            "files": _file_sizes(staging),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1))
        if include_secrets:
            os.chmod(staging / MANIFEST, 0o600)
        _sync_folder(staging)
        _swap_into_place(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BackupReport(destination, database, index_files, counts, tuple(notes), tuple(warnings))


def _os_reason(error: OSError) -> str:
    """Why the file system refused, naming the path it refused."""
    if isinstance(error, FileExistsError):  # mkdir(exist_ok=True) met a file
        return f"{error.filename!r} is a file, not a folder"
    return f"{error.strerror} ({error.filename!r})" if error.filename else str(error)


def _sync_folder(folder: Path) -> None:
    """Flush every file to disk before the rename makes the backup visible."""
    for path in folder.rglob("*"):
        if path.is_file():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)


def _swap_into_place(staging: Path, destination: Path) -> None:
    """Rename ``staging`` to ``destination``; an old ``destination`` goes only after.

    Two renames: killed between them, the old folder waits under ``.NAME.old-PID`` and
    ``destination`` is absent (no backup, never a torn one); the next backup cleans up.
    """
    if destination.exists():
        old = destination.parent / f".{destination.name}.old-{os.getpid()}"
        os.rename(destination, old)
        os.rename(staging, destination)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, destination)
