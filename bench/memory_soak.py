"""Worker memory under mixed load: does it level off? Prints RSS over time.

Loads the quick-start corpus into a temporary ``PAPERFEED_HOME`` (or uses ``--home``),
starts ``paperfeed serve`` (one worker) on a free loopback port, and drives it for
``--minutes`` with ``--clients`` threads of mixed requests: distinct searches (two or
three words drawn from the corpus titles, with pages, sorts and categories), search
JSON, paper pages, similar papers, trend charts, days, weeks and months, trending, RSS.
Every ``--every`` seconds it prints the worker's resident memory (``VmRSS`` of the
worker process, from ``/proc``) and the requests done; at the end, the growth over the
second half, which is ~0 once every cache is full.

    python bench/memory_soak.py --minutes 10            # the figure for the README/issue
    python bench/memory_soak.py --minutes 0.5 --every 5 # a smoke run

``--tracemalloc`` runs the worker under ``PYTHONTRACEMALLOC=1`` and prints, at the end,
the 15 source lines holding the most memory (via the worker's own snapshot, written on
SIGUSR1 by a hook this script installs through ``sitecustomize``), to find what grows.
Only memory matters here: on a busy machine the request rate is not a benchmark.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "src/paperfeed/data/quickstart/papers.jsonl.gz"
_HOOK = """
import os, signal, tracemalloc
def _dump(signum, frame):
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    with open(os.environ["PAPERFEED_SOAK_TRACE"], "w") as out:
        for stat in snapshot.statistics("lineno")[:15]:
            out.write(f"{stat.size / 2**20:8.1f} MiB {stat.count:>9} blocks  {stat.traceback}\\n")
signal.signal(signal.SIGUSR1, _dump)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _worker_pid(parent: int) -> int:
    """The serving worker: ``paperfeed serve`` forks one child per worker."""
    for _ in range(200):
        children = Path(f"/proc/{parent}/task/{parent}/children")
        found = children.read_text().split() if children.exists() else []
        if found:
            return int(found[0])
        time.sleep(0.1)
    return parent


class Load:
    """Requests of every kind the site answers anonymously, drawn at random."""

    def __init__(self, base: str, seed: int) -> None:
        with gzip.open(CORPUS) as stream:
            papers = [json.loads(line) for line in stream]
        self.ids = [paper["id"] for paper in papers]
        words = {
            word.strip(".,:;()").lower()
            for paper in papers
            for word in paper["title"].split()
            if len(word) > 3
        }
        self.words = sorted(word for word in words if word.isalpha())
        days = sorted({paper.get("daily_date") or "" for paper in papers} - {""})
        self.days = days
        self.base = base
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.done = 0
        self.errors = 0

    def _query(self) -> str:
        return " ".join(self.random.sample(self.words, self.random.choice((1, 2, 2, 3))))

    def next_request(self) -> tuple[str, dict[str, str]]:
        kind = self.random.random()
        if kind < 0.35:
            parameters = {"q": self._query()}
            if self.random.random() < 0.3:
                parameters["page"] = str(self.random.randint(1, 5))
            if self.random.random() < 0.2:
                parameters["sort"] = self.random.choice(("date", "upvotes"))
            return "/search", parameters
        if kind < 0.50:
            return "/api/search", {"q": self._query(), "limit": "20"}
        if kind < 0.70:
            return f"/papers/{self.random.choice(self.ids)}", {}
        if kind < 0.78:
            return f"/api/papers/{self.random.choice(self.ids)}/similar", {}
        if kind < 0.83:
            return "/api/papers/search/trend", {"q": self._query()}
        if kind < 0.91:
            day = self.random.choice(self.days)
            period = self.random.choice(("date", "date", "month"))
            return "/", {period: day if period == "date" else day[:7]}
        if kind < 0.96:
            return "/trending", {}
        return "/rss/daily", {}

    def run(self, stop: threading.Event) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while not stop.is_set():
                with self.lock:
                    path, parameters = self.next_request()
                try:
                    status = client.get(path, params=parameters).status_code
                except httpx.HTTPError:
                    status = 0
                with self.lock:
                    self.done += 1
                    self.errors += status >= 500 or status == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between rows")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--home", type=Path, help="a PAPERFEED_HOME with a corpus already")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tracemalloc", action="store_true")
    arguments = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="paperfeed-soak-"))
    home = arguments.home or scratch / "home"
    env = {**os.environ, "PAPERFEED_HOME": str(home), "PAPERFEED_ARXIV_API_URL": ""}
    python = [sys.executable, "-m", "paperfeed.cli"]
    if arguments.home is None:
        print("loading the quick-start corpus...", flush=True)
        subprocess.run([*python, "quickstart", "--quiet"], env=env, check=True)
    trace = scratch / "trace.txt"
    if arguments.tracemalloc:
        (scratch / "sitecustomize.py").write_text(_HOOK)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(scratch), env.get("PYTHONPATH")]))
        env["PYTHONTRACEMALLOC"] = "1"
        env["PAPERFEED_SOAK_TRACE"] = str(trace)
    port = _free_port()
    server = subprocess.Popen([*python, "serve", "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(f"{base}/status", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        worker = _worker_pid(server.pid)
        load = Load(base, arguments.seed)
        stop = threading.Event()
        threads = [
            threading.Thread(target=load.run, args=(stop,), daemon=True)
            for _ in range(arguments.clients)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        rows: list[tuple[float, float]] = [(0.0, _rss_mib(worker))]
        print(f"{'seconds':>8} {'RSS MiB':>8} {'requests':>9} {'5xx':>5}", flush=True)
        print(f"{0:>8.0f} {rows[0][1]:>8.0f} {0:>9} {0:>5}", flush=True)
        end = started + arguments.minutes * 60
        while time.monotonic() < end:
            time.sleep(max(0.0, min(arguments.every, end - time.monotonic())))
            elapsed = time.monotonic() - started
            rows.append((elapsed, _rss_mib(worker)))
            print(
                f"{elapsed:>8.0f} {rows[-1][1]:>8.0f} {load.done:>9} {load.errors:>5}", flush=True
            )
        stop.set()
        for thread in threads:
            thread.join(timeout=70)
        half = [rss for seconds, rss in rows if seconds >= rows[-1][0] / 2]
        peak = max(rss for _, rss in rows)
        print(
            f"start {rows[0][1]:.0f} MiB, peak {peak:.0f} MiB, end {rows[-1][1]:.0f} MiB; "
            f"growth over the second half {half[-1] - half[0]:+.0f} MiB; "
            f"{load.done} requests, {load.errors} failed"
        )
        if arguments.tracemalloc:
            os.kill(worker, signal.SIGUSR1)  # the hook writes the snapshot
            for _ in range(300):
                if trace.exists() and trace.stat().st_size:
                    break
                time.sleep(0.2)
            time.sleep(0.5)
            print("largest allocation sites in the worker (tracemalloc):")
            print(trace.read_text() if trace.exists() else "(no snapshot written)")
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a worker still writing its snapshot
            for pid in {_worker_pid(server.pid), server.pid}:
                os.kill(pid, signal.SIGKILL)
            server.wait()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
