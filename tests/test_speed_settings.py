"""The speed settings (issue 10): read from PAPERFEED_* variables, bad values named."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from paperfeed.config import Settings, SettingsError
from paperfeed.web import create_app
from running_site import free_port


def test_defaults() -> None:
    settings = Settings.from_environment({"PAPERFEED_HOME": "/tmp/x"})
    assert settings.embed_max_tokens == 0  # the model's own window
    assert settings.embed_spinning is False
    assert settings.query_cache_size == 4096
    assert settings.query_threads == 1
    assert settings.hnsw_ef_search == 256
    assert (settings.server_loop, settings.server_http) == ("auto", "auto")


def test_values_are_read() -> None:
    settings = Settings.from_environment(
        {
            "PAPERFEED_EMBED_MAX_TOKENS": "128",
            "PAPERFEED_EMBED_SPINNING": "yes",
            "PAPERFEED_QUERY_CACHE_SIZE": "0",
            "PAPERFEED_QUERY_THREADS": "2",
            "PAPERFEED_HNSW_EF_SEARCH": "512",
            "PAPERFEED_SERVER_LOOP": "asyncio",
            "PAPERFEED_SERVER_HTTP": "H11",
        }
    )
    assert (settings.server_loop, settings.server_http) == ("asyncio", "h11")
    assert (settings.embed_max_tokens, settings.embed_spinning) == (128, True)
    assert (settings.query_cache_size, settings.query_threads) == (0, 2)
    assert settings.hnsw_ef_search == 512


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("PAPERFEED_EMBED_MAX_TOKENS", "4"),
        ("PAPERFEED_EMBED_MAX_TOKENS", "-1"),
        ("PAPERFEED_EMBED_MAX_TOKENS", "lots"),
        ("PAPERFEED_EMBED_SPINNING", "maybe"),
        ("PAPERFEED_QUERY_CACHE_SIZE", "-3"),
        ("PAPERFEED_QUERY_THREADS", "two"),
        ("PAPERFEED_HNSW_EF_SEARCH", "0"),
        ("PAPERFEED_SERVER_THREADS", "-2"),
        ("PAPERFEED_SERVER_LOOP", "trio"),
        ("PAPERFEED_SERVER_HTTP", "h2"),
    ],
)
def test_bad_values_are_named(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        Settings.from_environment({key: value})


def _worker_thread_pool_size(settings: Settings) -> int:
    with TestClient(create_app(settings)) as client:  # runs the app's lifespan
        assert client.get("/api/papers/search", params={"q": "graphs"}).status_code == 200
        limiter = client.portal.call(anyio.to_thread.current_default_thread_limiter)
        return int(limiter.total_tokens)


def test_server_threads_size_each_workers_thread_pool(tmp_path: Path) -> None:
    """PAPERFEED_SERVER_THREADS caps the requests a worker computes at once (2 unset);
    0 leaves the framework's default pool (40) alone."""
    home = {"PAPERFEED_HOME": str(tmp_path), "PAPERFEED_EMBED_MODEL": "hashing"}
    assert _worker_thread_pool_size(Settings.from_environment(home)) == 2
    framework = Settings.from_environment(home | {"PAPERFEED_SERVER_THREADS": "0"})
    assert _worker_thread_pool_size(framework) == 40
    limited = Settings.from_environment(home | {"PAPERFEED_SERVER_THREADS": "1"})
    assert limited.server_threads == 1
    assert _worker_thread_pool_size(limited) == 1


@pytest.mark.parametrize(
    ("key", "value"), [("PAPERFEED_SERVER_LOOP", "uvloop"), ("PAPERFEED_SERVER_HTTP", "httptools")]
)
def test_serve_names_a_loop_or_parser_that_is_not_installed(
    key: str, value: str, paperfeed_home: Path
) -> None:
    """Each worker failed to import it, and was restarted every second, for ever."""
    blocked = f"import sys; sys.modules[{value!r}] = None; from paperfeed.cli import main; main()"
    environment = {**os.environ, key: value, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(
        [sys.executable, "-c", blocked, "serve", "--port", str(free_port())],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as server:
        try:
            _, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.communicate()
            pytest.fail(f"paperfeed serve with {key}={value} (not installed) kept running")
    assert server.returncode == 1 and "Traceback" not in err, err
    assert f"{key}={value!r} needs the {value} package: pip install {value}" in err


def test_serve_says_which_loop_and_parser_auto_runs() -> None:
    from paperfeed.cli.serving import package_that_runs

    assert package_that_runs("asyncio", "uvloop", "asyncio") == "asyncio"
    assert package_that_runs("httptools", "httptools", "h11") == "httptools"
    assert package_that_runs("auto", "pytest", "h11") == "pytest"  # installed: the faster one
    assert package_that_runs("auto", "no_such_parser_installed", "h11") == "h11"
