"""The speed settings (issue 10): read from PAPERFEED_* variables, bad values named."""

from __future__ import annotations

import pytest

from paperfeed.config import Settings, SettingsError


def test_defaults() -> None:
    settings = Settings.from_environment({"PAPERFEED_HOME": "/tmp/x"})
    assert settings.embed_max_tokens == 0  # the model's own window
    assert settings.embed_spinning is False
    assert settings.query_cache_size == 4096
    assert settings.query_threads == 1
    assert settings.hnsw_ef_search == 256


def test_values_are_read() -> None:
    settings = Settings.from_environment(
        {
            "PAPERFEED_EMBED_MAX_TOKENS": "128",
            "PAPERFEED_EMBED_SPINNING": "yes",
            "PAPERFEED_QUERY_CACHE_SIZE": "0",
            "PAPERFEED_QUERY_THREADS": "2",
            "PAPERFEED_HNSW_EF_SEARCH": "512",
        }
    )
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
    ],
)
def test_bad_values_are_named(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        Settings.from_environment({key: value})
