"""How long ``paperfeed sync`` runs, and how many requests it makes, against hostile servers.

Runs the real CLI (a subprocess, ``PYTHONPATH`` chooses the code: point it at another
checkout's ``src`` for a before/after table) against ``tests/hostile_server.py`` on
loopback, killing it after ``--limit`` seconds, and prints one row per scenario:

    PYTHONPATH=src python bench/hostile_sync.py --limit 30
    PYTHONPATH=/path/to/main/src python bench/hostile_sync.py --limit 30

Settings: no pause between requests (as a harvest of a fast server), a 5 s request
timeout and one retry, so the rows show the defences, not the politeness.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from hostile_server import Hostile, serve_hostile  # noqa: E402

RECORDS = [
    json.loads(line) for line in (ROOT / "tests/fixtures/oai/arxiv_2026-07-01.jsonl").open()
][:3]
SCENARIOS = {
    "token-loop": ("arxiv", Hostile("token-loop", records=RECORDS)),
    "empty-pages": ("arxiv", Hostile("empty-pages")),
    "fresh-tokens": ("arxiv", Hostile("fresh-tokens", records=RECORDS)),
    "drip-body": ("daily-papers", Hostile("drip-body")),
    "drip-headers": ("arxiv", Hostile("drip-headers")),
    "retry-after-600": ("arxiv", Hostile("retry-after", retry_after="600")),
}


def run(name: str, limit: float) -> tuple[int, float, str]:
    source, hostile = SCENARIOS[name]
    with tempfile.TemporaryDirectory() as home, serve_hostile(hostile) as base:
        env = {
            **os.environ,
            "PAPERFEED_HOME": home,
            "PAPERFEED_SYNC_DELAY_SECONDS": "0",
            "PAPERFEED_SYNC_BACKOFF_SECONDS": "0",
            "PAPERFEED_SYNC_TIMEOUT_SECONDS": "5",
            "PAPERFEED_SYNC_RETRIES": "1",
            "PAPERFEED_ARXIV_OAI_URL": f"{base}/oai" if source == "arxiv" else "",
            "PAPERFEED_DAILY_PAPERS_URL": base if source == "daily-papers" else "",
        }
        command = [sys.executable, "-m", "paperfeed.cli", "sync", source, "--no-index"]
        command += ["--from", "2026-07-01" if source == "arxiv" else "2025-06-02", "--quiet"]
        started = time.monotonic()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            output, _ = process.communicate(timeout=limit)
            outcome = f"exit {process.returncode}"
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            outcome = f"killed at {limit:g} s"
        seconds = time.monotonic() - started
        failed = [line for line in output.splitlines() if "FAILED:" in line]
        reason = failed[0].split("FAILED:", 1)[1].strip()[-90:] if failed else ""
        return len(hostile.requests), seconds, f"{outcome}  {reason}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=60.0, help="seconds before a kill")
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), help="scenarios")
    arguments = parser.parse_args()
    print(f"{'scenario':<16} {'requests':>8} {'seconds':>8}  outcome")
    for name in arguments.only or SCENARIOS:
        requests, seconds, outcome = run(name, arguments.limit)
        print(f"{name:<16} {requests:>8} {seconds:>8.1f}  {outcome}", flush=True)


if __name__ == "__main__":
    main()
