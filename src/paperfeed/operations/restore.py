"""``paperfeed restore``: bring a backup (``operations.backup``) back, all or nothing.

The backup is checked first (its manifest, every file it lists at its recorded size), so
a folder that is not a backup changes nothing. A home that holds anything is replaced
only with ``force``. Only what a backup holds is replaced: the database file, the index
folder and (when the backup has one) the secret key, each atomically (copied beside its
place and renamed over it); other files in the home, such as a ``backups/`` folder the
admin keeps there, are left as they are. Stop the server first: a running one keeps the
files it opened.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paperfeed.config import Settings
from paperfeed.operations.backup import (
    INDEX_FOLDER,
    PG_DUMP_FILE,
    SECRET_FILE,
    SQLITE_FILE,
    BackupError,
    BackupReport,
    is_sqlite,
    read_manifest,
    sqlite_counts,
    sqlite_path,
)
from paperfeed.operations.libpq import libpq_target
from paperfeed.store.database import create_database_engine

SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _home_in_use(settings: Settings) -> list[str]:
    """What the home already holds (names), empty when there is nothing to lose."""
    home = settings.home
    found = sorted(path.name for path in home.iterdir()) if home.is_dir() else []
    if is_sqlite(settings):
        database = sqlite_path(settings)
        if database.exists() and not _inside(database, home):
            found.append(str(database))
    index = settings.index_dir
    if index.is_dir() and not _inside(index, home) and any(index.iterdir()):
        found.append(str(index))
    return found


def _postgres_has_papers(settings: Settings) -> bool:
    engine = create_database_engine(settings.database_url)
    try:
        from sqlalchemy import inspect, text

        if not inspect(engine).has_table("papers"):
            return False
        with engine.connect() as connection:
            return bool(connection.scalar(text("SELECT count(*) FROM papers")))
    finally:
        engine.dispose()


def _check_kinds(settings: Settings, folder: Path, manifest: dict[str, Any]) -> None:
    kind = str(manifest.get("database", ""))
    if kind == "sqlite" and not is_sqlite(settings):
        raise BackupError(
            f"the backup {str(folder)!r} holds a SQLite database, but PAPERFEED_DATABASE_URL "
            "names PostgreSQL: unset it to restore into PAPERFEED_HOME"
        )
    if kind.startswith("postgresql") and is_sqlite(settings):
        raise BackupError(
            f"the backup {str(folder)!r} was made from PostgreSQL: set "
            "PAPERFEED_DATABASE_URL to the (empty) database to restore into"
        )


def _check_schema(folder: Path, manifest: dict[str, Any]) -> None:
    """Refuse a backup whose database has migrations this version does not know: the
    older code would run on a schema it was not written for."""
    from paperfeed.store.migrations import MIGRATIONS

    known = {version for version, _name, _apply in MIGRATIONS}
    versions = manifest.get("schema_versions") or []
    newer = sorted(v for v in versions if isinstance(v, int) and v not in known)
    if newer:
        raise BackupError(
            f"the backup {str(folder)!r} was made by a newer paperfeed (schema migrations "
            f"{', '.join(f'{v:03d}' for v in newer)} are unknown to this version, which "
            f"knows up to {max(known):03d}): upgrade paperfeed, then restore (nothing was "
            "changed)"
        )


def _replace_folder(staged: Path, target: Path) -> None:
    """Swap ``staged`` in for ``target`` by two renames (the old one is removed after)."""
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.rename(target, old)
        os.rename(staged, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staged, target)


def _place_sqlite(backup: Path, database: Path) -> None:
    """Copy the backup's database beside ``database`` and replace it in one rename."""
    database.parent.mkdir(parents=True, exist_ok=True)
    staged = database.parent / f".{database.name}.restore-{os.getpid()}"
    shutil.copy2(backup / SQLITE_FILE, staged)
    for suffix in SQLITE_COMPANIONS:  # a stale WAL would be replayed into the new file
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.replace(staged, database)


def _pg_restore(settings: Settings, dump: Path) -> None:
    program = shutil.which("pg_restore")
    if program is None:
        raise BackupError(
            "pg_restore is not on PATH: restore the database with pg_restore --clean "
            f"--if-exists --no-owner --dbname URL {dump}, then run paperfeed restore again "
            "for the index"
        )
    database, environment = libpq_target(settings.database_url)
    done = subprocess.run(
        [program, "--clean", "--if-exists", "--no-owner", "--single-transaction",
         "--dbname", database, str(dump)],
        capture_output=True,
        text=True,
        env=environment,
    )  # fmt: skip
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip() or done.returncode}")


def restore_backup(
    settings: Settings,
    folder: Path,
    force: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> BackupReport:
    """Restore the backup in ``folder`` into the install of ``settings``.

    Raises:
        BackupError: ``folder`` is not a complete backup, the home is not empty and
            ``force`` is off, or the backup's database kind does not match the settings.
    """
    step = on_step or (lambda _text: None)
    folder = folder.expanduser().absolute()
    manifest = read_manifest(folder)
    _check_kinds(settings, folder, manifest)
    _check_schema(folder, manifest)
    in_use = _home_in_use(settings)
    if in_use and not force:
        raise BackupError(
            f"PAPERFEED_HOME {str(settings.home)!r} is not empty ({', '.join(in_use[:5])}): "
            "restore into an empty home, or add --force to replace it (nothing was changed)"
        )
    sqlite = is_sqlite(settings)
    if not sqlite and not force and _postgres_has_papers(settings):
        raise BackupError(
            "the PostgreSQL database already holds papers: add --force to replace it "
            "(nothing was changed)"
        )
    notes: list[str] = []
    has_index = (folder / INDEX_FOLDER).is_dir()
    has_secret = (folder / SECRET_FILE).is_file()
    if not sqlite:
        if (folder / PG_DUMP_FILE).is_file():
            step("restoring the PostgreSQL database with pg_restore")
            _pg_restore(settings, folder / PG_DUMP_FILE)
        else:
            notes.append("this backup holds no database dump: restore PostgreSQL from your pg_dump")
    # Only what a backup holds is replaced, each part in one rename: the home may also
    # keep the admin's own files (a backups/ folder, the very backup restored from).
    if sqlite:
        step("replacing the database")
        _place_sqlite(folder, sqlite_path(settings))
    index = settings.index_dir.expanduser().absolute()
    if has_index:
        step("replacing the index")
        staged = index.parent / f".{index.name}.restore-{os.getpid()}"
        shutil.rmtree(staged, ignore_errors=True)
        shutil.copytree(folder / INDEX_FOLDER, staged)
        _replace_folder(staged, index)
    elif index.is_dir():
        # the index of the replaced database would answer for papers it no longer holds,
        # and its change sequence would hide the restored rows from ``paperfeed index``
        step("removing the index of the replaced database")
        old = index.parent / f".{index.name}.old-{os.getpid()}"
        os.rename(index, old)
        shutil.rmtree(old, ignore_errors=True)
    if has_secret:  # without one in the backup, the home's own key stays
        settings.home.mkdir(parents=True, exist_ok=True)
        staged_key = settings.home / f".{SECRET_FILE}.restore-{os.getpid()}"
        shutil.copy2(folder / SECRET_FILE, staged_key)
        os.chmod(staged_key, 0o600)
        os.replace(staged_key, settings.home / SECRET_FILE)
    if not has_index:
        notes.append("the backup holds no index: run paperfeed index to build it")
    else:
        notes.append("run paperfeed index to add what changed after the index was copied")
    counts = sqlite_counts(sqlite_path(settings)) if sqlite else dict(manifest.get("counts", {}))
    index_files = sum(1 for path in (folder / INDEX_FOLDER).rglob("*") if path.is_file())
    return BackupReport(folder, str(manifest.get("database")), index_files, counts, tuple(notes))
