"""``paperfeed index --ray``: the embedding backfill on a real local Ray head (loopback only).

The head is started with ``ray start --head`` (2 CPUs) bound to 127.0.0.1: Ray turns an
explicit ``--node-ip-address=127.0.0.1`` into the machine's outside address unless
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` tells it this is a single-machine cluster, and
then every server it starts listens on loopback only.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from paperfeed.index.embedder import embedding_text, load_embedder
from paperfeed.quickstart import BUNDLE
from paperfeed.store import Store
from paperfeed.store.embedding_rows import count_fresh_embeddings, iter_fresh_embeddings
from running_site import FIXTURES, free_port

pytest.importorskip("ray.data", reason="the Ray tier needs the ray extra: pip install '.[ray]'")
pytestmark = pytest.mark.ray
LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
SOURCES = [
    (FIXTURES / "site_daily_papers.jsonl", "daily-papers-flat"),
    (FIXTURES / "cli_arxiv_sample.jsonl", "arxiv-listing"),
]


def _processes() -> dict[int, tuple[int, str]]:
    """Every process: pid -> (parent pid, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        found[int(entry.name)] = (parent, command)
    return found


def _cluster_processes(temp_dir: str) -> list[int]:
    """The head's daemons (their command lines name our temp dir) and all they started."""
    table = _processes()
    chosen = {pid for pid, (_, command) in table.items() if temp_dir in command}
    grew = True
    while grew:
        children = {pid for pid, (parent, _) in table.items() if parent in chosen} - chosen
        chosen |= children
        grew = bool(children)
    return sorted(chosen)


@pytest.fixture(scope="module")
def ray_head() -> Iterator[tuple[str, str]]:
    """A Ray head with 2 CPUs on 127.0.0.1; yields (address, temp dir)."""
    temp_dir = tempfile.mkdtemp(prefix="pfray", dir="/tmp")  # short: socket paths < 108
    port = free_port()
    environment = os.environ | LOOPBACK_ONLY
    ray = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
    started = subprocess.run(
        [ray, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
         "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
         f"--temp-dir={temp_dir}"],
        env=environment, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield f"127.0.0.1:{port}", temp_dir
    finally:
        for pid in _cluster_processes(temp_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _vectors(url: str, model: str = "minilm") -> dict[str, np.ndarray]:
    store = Store(url)
    found = {}
    for keys, vectors in iter_fresh_embeddings(store, model):
        papers = store.get_papers(keys.tolist())
        for key, vector in zip(keys.tolist(), vectors, strict=True):
            found[papers[key].arxiv_id] = vector.copy()
    store.close()
    return found


def _environment(home: Path, batch: int, model: str) -> dict[str, str]:
    return (
        os.environ
        | LOOPBACK_ONLY
        | {
            "PAPERFEED_HOME": str(home),
            "PAPERFEED_EMBED_MODEL": model,
            "PAPERFEED_EMBED_BATCH_SIZE": str(batch),
        }
    )


def _home(folder: Path, batch: int, model: str = "minilm") -> tuple[dict[str, str], str]:
    environment = _environment(folder, batch, model)
    for source, source_format in SOURCES:
        subprocess.run(
            [sys.executable, "-m", "paperfeed.cli", "ingest", str(source), "--format",
             source_format, "--quiet"],
            env=environment, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    return environment, f"sqlite:///{folder / 'paperfeed.db'}"


def _index(environment: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paperfeed.cli", "index", "--quiet", *options],
        env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def local_vectors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """The single-process vectors of the same papers (batch 8)."""
    environment, url = _home(tmp_path_factory.mktemp("local"), 8)
    result = _index(environment)
    assert result.returncode == 0, result.stderr
    return _vectors(url)


def test_ray_vectors_equal_the_single_process_ones(
    ray_head: tuple[str, str], local_vectors: dict[str, np.ndarray], tmp_path: Path
) -> None:
    environment, url = _home(tmp_path, 8)
    # batch 8: chunks of 128 papers, locally and on Ray; a run split at a chunk boundary
    result = _index(environment, "--ray", ray_head[0], "--embed-limit", "128")
    assert result.returncode == 0, result.stderr
    assert "embedded 128;" in result.stdout
    rest = _index(environment, "--ray", ray_head[0])
    assert rest.returncode == 0, rest.stderr
    assert f"embedded {len(local_vectors) - 128};" in rest.stdout
    again = _index(environment, "--ray", ray_head[0])
    assert "embedded 0;" in again.stdout  # idempotent: nothing left, the cluster is not used
    remote = _vectors(url)
    assert remote.keys() == local_vectors.keys()
    # the same chunks as the local run (same batch size, same key order): the int8
    # model's dynamic quantisation sees the same batches, so the vectors are identical
    worst = min(float(np.dot(remote[i], local_vectors[i])) for i in remote)
    assert worst >= 0.9999, worst


def test_a_killed_worker_and_a_killed_driver_lose_nothing(
    ray_head: tuple[str, str], tmp_path: Path
) -> None:
    address, temp_dir = ray_head
    # 448 bundled papers: 7 chunks of 64 (batch 4), so there is a run to interrupt
    with gzip.open(BUNDLE / "papers.jsonl.gz", "rt") as bundle:
        lines = [next(bundle) for _ in range(448)]
    (tmp_path / "part.jsonl").write_text("".join(lines))
    environment = _environment(tmp_path, 4, "minilm")
    subprocess.run(
        [sys.executable, "-m", "paperfeed.cli", "ingest", str(tmp_path / "part.jsonl"),
         "--quiet"],
        env=environment, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    url = f"sqlite:///{tmp_path / 'paperfeed.db'}"
    store = Store(url)
    total = store.count_papers()
    driver = subprocess.Popen(
        [sys.executable, "-m", "paperfeed.cli", "index", "--quiet", "--ray", address],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip

    def embedded() -> int:
        return count_fresh_embeddings(store, "minilm")

    def wait_for_more_than(count: int) -> None:
        deadline = time.monotonic() + 300
        while embedded() <= count:
            assert driver.poll() is None, driver.communicate()[0]
            assert time.monotonic() < deadline, "no progress on the Ray cluster"
            time.sleep(0.2)

    wait_for_more_than(0)
    table = _processes()
    actors = [
        pid
        for pid in _cluster_processes(temp_dir)
        if table.get(pid, (0, ""))[1].startswith("ray::MapWorker")
    ]
    assert actors, "no embedding actor found"
    os.kill(actors[0], signal.SIGKILL)  # Ray restarts the actor and retries its chunk
    wait_for_more_than(embedded())
    driver.kill()  # the driver now: chunks in flight are lost, committed ones are kept
    driver.wait(timeout=60)
    kept = embedded()
    assert 0 < kept < total, "the driver finished before it could be killed"
    resumed = _index(environment, "--ray", address)
    assert resumed.returncode == 0, resumed.stderr
    assert f"embedded {total - kept};" in resumed.stdout, resumed.stdout
    assert embedded() == total
    remote = _vectors(url)
    assert len(remote) == total
    # against this process's own embedding of a sample (other chunks: the int8 bound)
    sample = sorted(remote)[::28]
    papers = {
        paper.arxiv_id: paper for paper in store.get_papers(list(range(1, total + 1))).values()
    }
    local = load_embedder("minilm", threads=1).embed(
        [embedding_text(papers[i].title, papers[i].abstract) for i in sample]
    )
    worst = min(float(np.dot(remote[i], row)) for i, row in zip(sample, local, strict=True))
    assert worst >= 0.99, worst
    store.close()


@pytest.fixture(scope="module")
def fp32_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An fp32 copy of the bundled int8 MiniLM (scripts/dequantize_onnx.py), as a spec."""
    pytest.importorskip("onnx", reason="the fp32 copy is made with the onnx package")
    from paperfeed.index.embedder import BUNDLED_MODELS_DIR

    target = tmp_path_factory.mktemp("minilm-fp32")
    script = Path(__file__).resolve().parents[1] / "scripts" / "dequantize_onnx.py"
    subprocess.run(
        [sys.executable, str(script), str(BUNDLED_MODELS_DIR / "minilm"), str(target)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return f"onnx:{target}"


def test_fp32_vectors_from_ray_equal_the_local_ones_whatever_the_batches(
    ray_head: tuple[str, str], fp32_model: str, tmp_path: Path
) -> None:
    """An fp32 model does not depend on the batch: other batch sizes on Ray, and a run
    split in two, still give cosine >= 0.9999 against one local run."""
    local_environment, local_url = _home(tmp_path / "local", 8, fp32_model)
    assert _index(local_environment).returncode == 0
    environment, url = _home(tmp_path / "ray", 3, fp32_model)
    first = _index(environment, "--ray", ray_head[0], "--embed-limit", "40")
    assert first.returncode == 0 and "embedded 40;" in first.stdout, first.stderr
    rest = _index(environment, "--ray", ray_head[0])
    assert rest.returncode == 0, rest.stderr
    local, remote = _vectors(local_url, fp32_model), _vectors(url, fp32_model)
    assert remote.keys() == local.keys() and len(remote) > 40
    worst = min(float(np.dot(remote[i], local[i])) for i in remote)
    assert worst >= 0.9999, worst


def test_an_unreachable_head_is_named(tmp_path: Path) -> None:
    environment, _ = _home(tmp_path, 8)
    result = _index(environment, "--ray", "127.0.0.1:1")
    assert result.returncode == 1
    assert "cannot reach the Ray head at '127.0.0.1:1'" in result.stderr
    assert "Traceback" not in result.stderr
    usage = _index(environment, "--ray", "auto", "--no-embed")
    assert usage.returncode == 2 and "--ray embeds" in usage.stderr
