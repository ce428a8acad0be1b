"""One runner per scheduler across replicas: a named lock held for the process's lifetime.

Several ``paperfeed serve`` replicas over one database must not all send the digests
(or run the sync): each scheduler runs only in the replica holding its lock.

* PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a dedicated
  connection kept open while the scheduler runs. The server drops the lock the moment
  that connection ends, so a replica that is killed, crashes or loses its network hands
  the lock over without any expiry to wait for; locks are per database.
* SQLite: the database is one file on one host, so an exclusive ``flock`` on a file
  beside it; the kernel releases it when the process ends, however it ends.

Use :func:`run_when_elected`; it keeps trying in a daemon thread, so a standby replica
takes over within ``poll_seconds`` of the holder's death.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from paperfeed.store.database import create_database_engine

POLL_SECONDS = 5.0
log = logging.getLogger("paperfeed.scheduler_lock")

# What ``start`` hands back: an event to set, or a function to call, to stop the job.
Stopper = threading.Event | Callable[[], None]


def lock_key(name: str) -> int:
    """The signed 64-bit advisory-lock key of ``name`` (stable across processes)."""
    digest = hashlib.blake2b(f"paperfeed:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class SchedulerLock:
    """A named, non-blocking, process-lifetime lock in the database behind ``database_url``."""

    def __init__(self, database_url: str, name: str) -> None:
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"lock name {name!r} must be letters, digits, '-' or '_'")
        self.database_url = database_url
        self.name = name
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        self._file: IO[bytes] | None = None
        url = make_url(database_url)
        self._postgres = url.get_backend_name() == "postgresql"
        self._path: Path | None = None
        if not self._postgres and url.database and url.database != ":memory:":
            database = Path(url.database).expanduser()
            self._path = database.with_name(f"{database.name}.{name}.lock")

    @property
    def held(self) -> bool:
        """Whether this process holds the lock; on PostgreSQL, checks the connection lives."""
        if self._postgres:
            if self._connection is None:
                return False
            try:
                self._connection.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                log.warning("lost the connection holding lock %r", self.name)
                self._drop_connection()
                return False
        return self._file is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits. Returns whether it is held now."""
        if self._connection is not None or self._file is not None:
            return self.held
        if self._postgres:
            return self._try_postgres()
        return self._try_file()

    def _try_postgres(self) -> bool:
        if self._engine is None:
            self._engine = create_database_engine(self.database_url)
        try:
            # autocommit: a session lock outlives transactions, and an idle open
            # transaction would hold back vacuum for as long as the replica runs
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except DBAPIError as error:
            log.warning("cannot reach the database for lock %r: %s", self.name, error.orig)
            return False
        try:
            got = bool(
                connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(self.name)}
                )
            )
        except DBAPIError as error:
            log.warning("cannot take lock %r: %s", self.name, error.orig)
            got = False
        if got:
            self._connection = connection
        else:
            connection.close()
        return got

    def _try_file(self) -> bool:
        if self._path is None:  # an in-memory database lives in this process only
            self._file = open(os.devnull, "rb")  # noqa: SIM115 - kept open while held
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self._path, "ab")  # noqa: SIM115 - kept open while held
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):
                self._connection.close()
            self._connection = None

    def release(self) -> None:
        """Give the lock up (also what the end of the process does)."""
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(self.name)}
                )
            self._drop_connection()
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _stop(stopper: Stopper | None) -> None:
    if isinstance(stopper, threading.Event):
        stopper.set()
    elif stopper is not None:
        stopper()


def run_when_elected(
    database_url: str,
    name: str,
    start: Callable[[], Stopper],
    on_standby: Callable[[], None] | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> threading.Event:
    """Run ``start()`` in whichever process holds lock ``name``; the others stand by.

    A daemon thread tries the lock now and every ``poll_seconds``; once held it calls
    ``start()`` (which starts the job and returns its stop event or stop function) and
    checks the lock every ``poll_seconds``; if the lock is lost (the database connection
    dropped) the job is stopped and the thread goes back to trying.

    Args:
        database_url: the store's URL; every replica must use the same database.
        name: the lock's name, one per scheduler (``"digests"``, ``"sync"``).
        start: starts the job; called each time this process becomes the holder.
        on_standby: called once when another process holds the lock at the first try.
        poll_seconds: how often a standby tries again (the failover delay).

    Returns:
        An event: set it to stop the job and release the lock (the end of the
        process releases it too).
    """
    lock = SchedulerLock(database_url, name)
    stopping = threading.Event()

    def loop() -> None:
        stopper: Stopper | None = None
        first = True
        try:
            while not stopping.is_set():
                if stopper is None:
                    if lock.try_acquire():
                        log.info("holding lock %r: running its scheduler here", name)
                        try:
                            stopper = start()
                        except Exception:  # let another process try rather than hold it idle
                            log.exception("the scheduler of lock %r did not start", name)
                            lock.release()
                    elif first and on_standby is not None:
                        on_standby()
                    first = False
                elif not lock.held:
                    _stop(stopper)
                    stopper = None
                    continue  # try again at once: the holder may have been this process
                stopping.wait(poll_seconds)
        finally:
            _stop(stopper)
            lock.release()

    threading.Thread(target=loop, name=f"paperfeed-lock-{name}", daemon=True).start()
    return stopping
