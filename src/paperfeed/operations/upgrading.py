"""``paperfeed migrate``: which schema migrations a database lacks, and applying them.

Every command that opens the store (``paperfeed serve`` included) applies pending
migrations first, each in its own transaction, so an upgrade needs no separate step.
``paperfeed migrate`` does the same on its own, saying what it applied: run it after
installing a new version (and after a backup) to upgrade at a moment of your choosing,
before several replicas start, or with ``--check`` to ask whether one is due.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import DatabaseError

from paperfeed.store.database import StoreError, create_database_engine
from paperfeed.store.migrations import MIGRATIONS, applied_versions, migrate


@dataclass(frozen=True)
class MigrationReport:
    """Migrations (version, name) already there, and those still pending or just applied."""

    present: tuple[tuple[int, str], ...]
    pending: tuple[tuple[int, str], ...]
    applied: tuple[tuple[int, str], ...]

    @property
    def unknown(self) -> tuple[int, ...]:
        """Versions the database has that this version does not (a newer paperfeed
        upgraded it)."""
        known = {version for version, _, _ in MIGRATIONS}
        return tuple(version for version, _ in self.present if version not in known)

    @property
    def current(self) -> int:
        done = [version for version, _ in self.present + self.applied]
        return max(done, default=0)


def migrate_database(database_url: str, apply: bool = True) -> MigrationReport:
    """Compare the database's migrations with this version's; apply the missing ones.

    Raises:
        StoreError: the database cannot be opened, naming it.
    """
    engine = create_database_engine(database_url)
    try:
        done = applied_versions(engine)
        names = {version: name for version, name, _ in MIGRATIONS}
        present = tuple((version, names.get(version, "?")) for version in sorted(done))
        pending = tuple((version, name) for version, name, _ in MIGRATIONS if version not in done)
        applied: tuple[tuple[int, str], ...] = ()
        if apply and pending:
            versions = set(migrate(engine))
            applied = tuple(item for item in pending if item[0] in versions)
            # another process migrating the same database at once applied the rest: they
            # are present now, not pending (asked again, not inferred from what we did)
            now_done = applied_versions(engine)
            present += tuple(
                item for item in pending if item[0] in now_done and item[0] not in versions
            )
            pending = tuple(item for item in pending if item[0] not in now_done)
    except DatabaseError as error:  # locked, unreadable, not SQLite, truncated
        raise StoreError(f"cannot open database {database_url!r}: {error.orig}") from None
    finally:
        engine.dispose()
    return MigrationReport(present, pending, applied)
