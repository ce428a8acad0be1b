"""How ``paperfeed backup`` and ``restore`` hand a PostgreSQL database to libpq's tools
(pg_dump, pg_restore): its address on the command line, its password in the environment."""

from __future__ import annotations

import os

from sqlalchemy.engine import URL, make_url


def libpq_target(database_url: str) -> tuple[str, dict[str, str]]:
    """What pg_dump and pg_restore get: the database URL for ``--dbname`` without its
    password, and an environment carrying the password as ``PGPASSWORD`` (a command line
    can be read by every user of the machine, a process's environment only by its owner)."""
    url = make_url(database_url).set(drivername="postgresql")
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    # URL.set(password=None) would keep the password: None there means "unchanged"
    bare = URL.create(
        url.drivername, url.username, None, url.host, url.port, url.database, url.query
    )
    return bare.render_as_string(hide_password=False), environment
