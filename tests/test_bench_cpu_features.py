"""bench/hide_cpu_features.c: a process told to hide AVX-512, AVX-VNNI and AMX sees only
AVX2 through CPUID, and the shipped int8 model embeds the same vectors on the AVX2 kernels it
then picks as on this CPU's own (its 7-bit weights keep VPMADDUBSW from saturating)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))
import _cpu_features  # noqa: E402  (bench/ is not a package)

pytestmark = pytest.mark.skipif(
    not _cpu_features.has_cpuid_faulting() or shutil.which("cc") is None,
    reason="needs the cpuid_fault CPU flag and a C compiler",
)

TEXTS = [
    "KL divergence between two Gaussian distributions.",
    "Protein folding with deep learning at atomic accuracy.",
    "A survey of retrieval-augmented generation for question answering.",
]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hide") / "hide_cpu_features.so"
    _cpu_features.build_library(path)
    # a sandbox may refuse the faulting switch although the CPU has it (seccomp, gVisor)
    probe = run_python("pass", _cpu_features.hidden_environment("avx2", path, os.environ))
    if probe.returncode != 0 and "ARCH_SET_CPUID" in probe.stderr:
        pytest.skip(f"this kernel refuses CPUID faulting: {probe.stderr.strip()}")
    return path


def run_python(
    code: str, environment: dict[str, str], *arguments: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_avx2_preset_leaves_only_avx2_visible(library: Path) -> None:
    environment = _cpu_features.hidden_environment("avx2", library, os.environ)
    code = (
        f"import sys; sys.path.insert(0, {str(BENCH)!r}); import _cpu_features, numpy\n"
        "features = numpy._core._multiarray_umath.__cpu_features__\n"
        "print(features['AVX2'], features['FMA3'], features['AVX512F'], features['AVX512_SKX'])\n"
        "print(_cpu_features.hidden_description())\n"
    )
    finished = run_python(code, environment)
    assert finished.returncode == 0, finished.stderr
    numpy_view, description = finished.stdout.splitlines()
    assert numpy_view == "True True False False"
    assert "--hide-cpu-features avx2" in description
    assert "CPUID in this process reports: sse4_2 avx avx2 fma (" in description


def test_int8_embeddings_on_avx2_kernels_are_the_native_ones(library: Path, tmp_path: Path) -> None:
    code = (
        "import sys, numpy\n"
        "from paperfeed.index.embedder import load_embedder\n"
        f"vectors = load_embedder('minilm', threads=1).embed({TEXTS!r})\n"
        "numpy.save(sys.argv[1], vectors)\n"
    )
    for name, environment in (
        ("native", dict(os.environ)),
        ("avx2", _cpu_features.hidden_environment("avx2", library, os.environ)),
    ):
        finished = run_python(code, environment, str(tmp_path / f"{name}.npy"))
        assert finished.returncode == 0, finished.stderr
    native, avx2 = np.load(tmp_path / "native.npy"), np.load(tmp_path / "avx2.npy")
    assert native.shape == avx2.shape == (3, 384)
    cosines = np.sum(native * avx2, axis=1)
    # full-range int8 weights gave 0.988-0.993 here: the AVX2 kernel's int16 sums saturated
    assert np.all(cosines > 0.9999), cosines
    # and they are still three different texts, not one vector three times
    assert float(avx2[0] @ avx2[1]) < 0.9


def test_an_unknown_group_is_refused_by_name(library: Path) -> None:
    environment = _cpu_features.hidden_environment("avx2", library, os.environ)
    environment["HIDE_CPU_FEATURES"] = "avx512,avx1024"
    finished = run_python("print('ran')", environment)
    assert finished.returncode == 2
    assert "unknown group avx1024" in finished.stderr
    assert "ran" not in finished.stdout
