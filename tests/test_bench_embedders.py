"""bench/embedders.py times its variants in turns, chunk by chunk, on the same texts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
import embedders  # noqa: E402  (bench/ is not a package)

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "eval" / "beir_scifact"


def run_embedders(*arguments: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python bench/embedders.py ARGUMENTS`` in a process of its own, its output kept."""
    return subprocess.run(
        [sys.executable, str(BENCH / "embedders.py"), *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_variants_take_turns_and_each_embeds_every_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedders, "CHUNK", 3)
    calls: list[tuple[str, tuple[str, ...]]] = []

    def recorder(name: str):  # type: ignore[no-untyped-def]
        def embed(texts):  # type: ignore[no-untyped-def]
            calls.append((name, tuple(texts)))
            return np.ones((len(texts), 2), dtype=np.float32)

        return embed

    variants = [embedders.Variant("a", recorder("a"), 0), embedders.Variant("b", recorder("b"), 2)]
    texts = [f"text {number}" for number in range(7)]
    query_set = embedders.QuerySet("SciFact", texts, [], [])
    vectors = embedders.interleaved_timing(variants, query_set, timed=True)

    # chunk 1: a then b; chunk 2: b then a; chunk 3: a then b; b in calls of two texts
    assert [name for name, _ in calls] == ["a", "b", "b", "b", "b", "a", "a", "b"]
    assert calls[0][1] == ("text 0", "text 1", "text 2")
    assert calls[1][1] == ("text 0", "text 1") and calls[2][1] == ("text 2",)
    assert [vector.shape for vector in vectors] == [(7, 2), (7, 2)]
    assert [len(variant.chunk_rates) for variant in variants] == [3, 3]
    assert all(variant.wall > 0 and variant.cpu >= 0 for variant in variants)


def test_table_shows_each_variant_and_its_spread_against_the_reference() -> None:
    rows = [
        embedders.Row("st", 10.0, 100.0, {"SciFact": (0.8, 0.9)}, [10.0, 12.0, 8.0]),
        embedders.Row("minilm", 25.0, 40.0, {"SciFact": (0.81, 0.9)}, [30.0, 24.0, 20.0]),
    ]
    query_set = embedders.QuerySet("SciFact", [], [], [])
    table = embedders.format_table(rows, [query_set], "SciFact")
    assert "3 chunks" in table and "variants in turns" in table
    assert "| st | 10.0 | 100.0 | 1.00 | 1.00 (1.00-1.00) |" in table
    assert "| minilm | 25.0 | 40.0 | 2.50 | 2.50 (2.00-3.00) | 0.8100 | 0.9000 |" in table
    # without st, no ratios: a dash, not "nan"
    alone = embedders.format_table(rows[1:], [query_set], "SciFact")
    assert "| minilm | 25.0 | 40.0 | - | - | 0.8100 | 0.9000 |" in alone and "nan" not in alone


@pytest.mark.skipif(not SCIFACT.is_dir(), reason="needs ../shared/data/eval/beir_scifact")
def test_bench_runs_two_variants_side_by_side() -> None:
    done = run_embedders(
        "--variants", "hashing,hashing:64", "--limit-docs", "40", "--skip-known-items", "--force"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "variants in turns" in done.stdout
    assert "| hashing |" in done.stdout and "| hashing:64 |" in done.stdout


@pytest.mark.skipif(not SCIFACT.is_dir(), reason="needs ../shared/data/eval/beir_scifact")
def test_bench_can_time_the_known_item_corpus_instead() -> None:
    arguments = ["--variants", "hashing", "--limit-docs", "40", "--sample", "20"]
    arguments += ["--force", "--time-known-items"]
    done = run_embedders(*arguments)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "speed timed on known items (n=20+20)" in done.stdout
    refused = run_embedders(*arguments, "--skip-known-items", timeout=60)
    assert refused.returncode == 2
    assert "--time-known-items needs the known items" in refused.stderr


@pytest.mark.parametrize("window", [8, 128, 224, 256])
def test_a_variant_option_sets_any_token_window(window: int) -> None:
    embed, calls = embedders.make_variant(f"minilm@{window}+t1", 1)
    assert embed.__self__.max_tokens == window and calls == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("variant", ["minilm@300", "minilm@7", "minilm@128+192", "minilm@fast"])
def test_an_option_it_does_not_know_is_refused_by_name(variant: str) -> None:
    # an option once ignored silently timed the default under another name
    with pytest.raises(SystemExit, match=re.escape(f"variant '{variant}'")):
        embedders.make_variant(variant, 1)


def test_a_model_that_is_not_there_is_named_before_any_data_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the default variants include fp32, which only scripts/export_minilm_onnx.py writes:
    # a run without it used to read both corpora, then stop on a traceback
    monkeypatch.setattr(embedders, "EXPORT_DIR", tmp_path)
    with pytest.raises(SystemExit, match=r"variant 'fp32@128': .*export_minilm_onnx\.py"):
        embedders.make_variant("fp32@128", 1)
    missing = tmp_path / "nowhere"
    done = run_embedders("--variants", f"hashing,onnx:{missing}", "--limit-docs", "40", "--force")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"variant 'onnx:{missing}': embedding model file not found" in done.stderr
    assert "Traceback" not in done.stderr and "[embedders] SciFact" not in done.stderr
