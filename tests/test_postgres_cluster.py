"""The tests' own PostgreSQL clusters: what a killed run leaves behind is cleared by the next."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from postgres_cluster import (
    FOLDER_PREFIX,
    UNNAMED_FOLDER_SECONDS,
    _folder_for_the_cluster,
    remove_abandoned_clusters,
)


def _ended_process_id() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def _cluster_folder(parent: Path, name: str, server_pid: int | None = None) -> Path:
    folder = parent / name
    (folder / "base").mkdir(parents=True)
    if server_pid is not None:
        # PostgreSQL's lock file: the postmaster's process id, then the data directory
        (folder / "postmaster.pid").write_text(f"{server_pid}\n{folder}\n")
    return folder


def test_a_killed_run_s_cluster_is_stopped_and_removed_and_live_ones_are_kept(
    tmp_path: Path,
) -> None:
    # a stand-in for the server a killed run left running; reaped as soon as it ends
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    threading.Thread(target=server.wait, daemon=True).start()
    dead_owner = _ended_process_id()
    abandoned = _cluster_folder(tmp_path, f"{FOLDER_PREFIX}{dead_owner}-abc", server.pid)
    abandoned_stopped = _cluster_folder(tmp_path, f"{FOLDER_PREFIX}{dead_owner}-def")
    ours = _cluster_folder(tmp_path, f"{FOLDER_PREFIX}{os.getpid()}-ghi", os.getpid())
    try:
        removed = remove_abandoned_clusters([tmp_path])
        assert sorted(removed) == sorted([abandoned, abandoned_stopped])
        assert not abandoned.exists() and not abandoned_stopped.exists()
        assert ours.is_dir()
        server.wait(timeout=10)  # stopped by the clean-up, not by the sleep's end
        assert server.returncode != 0
    finally:
        server.kill()


def test_a_folder_named_before_owners_were_goes_only_when_old_and_idle(tmp_path: Path) -> None:
    old = time.time() - UNNAMED_FOLDER_SECONDS - 60
    idle_old = _cluster_folder(tmp_path, f"{FOLDER_PREFIX}x1y2z3")
    os.utime(idle_old, (old, old))
    fresh = _cluster_folder(tmp_path, f"{FOLDER_PREFIX}a1b2c3")
    running_old = _cluster_folder(tmp_path, f"{FOLDER_PREFIX}q1w2e3", os.getpid())
    os.utime(running_old, (old, old))
    unrelated = tmp_path / "someone-else-s-folder"
    unrelated.mkdir()

    assert remove_abandoned_clusters([tmp_path]) == [idle_old]
    assert fresh.is_dir() and running_old.is_dir() and unrelated.is_dir()


def test_a_new_cluster_folder_is_named_for_this_process() -> None:
    folder, _ = _folder_for_the_cluster()
    try:
        assert folder.name.startswith(f"{FOLDER_PREFIX}{os.getpid()}-")
        assert not any(folder.iterdir())  # initdb wants it empty
        assert remove_abandoned_clusters([folder.parent]).count(folder) == 0
    finally:
        folder.rmdir()
