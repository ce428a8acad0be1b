"""Bench scripts refuse option combinations they cannot honour before doing any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize("option", ["--save-vectors", "--against-vectors"])
def test_embedders_refuses_a_partial_corpus_for_saved_vectors(option: str, tmp_path: Path) -> None:
    # before: --save-vectors embedded the partial corpus (minutes), then refused
    done = subprocess.run(
        [sys.executable, str(BENCH / "embedders.py"), "--variants", "minilm"]
        + ["--limit-docs", "40", "--force", option, str(tmp_path / "vectors")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{option} needs the whole corpus: drop --limit-docs" in done.stderr
    assert "docs/s" not in done.stderr + done.stdout  # nothing was embedded
    assert not (tmp_path / "vectors").exists()
