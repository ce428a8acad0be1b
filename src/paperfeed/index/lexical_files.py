"""The lexical index's files: generations, the atomic manifest switch, and cleaning up
what a killed save or a merge left behind (the index itself is ``index/lexical.py``)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path


def stored_format_version(folder: Path) -> int:
    """The format version of the index in ``folder`` (format 1 did not record it)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    return int(manifest.get("format_version", 1))


def next_generation(folder: Path) -> int:
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return 1
    return int(json.loads(manifest.read_text())["generation"]) + 1


def write_json_atomically(path: Path, value: object) -> None:
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(value, indent=1))
    os.replace(staging, path)


def remove_leftovers(folder: Path) -> list[str]:
    """Delete what no manifest needs: staging folders of a save that was killed
    (``.segment-*.tmp``) and segments a merge replaced. Returns their names.

    Only a writer calls it (``paperfeed index`` at its start and after each save), so
    it never races another save; a reader that is loading the previous manifest just
    then retries with the new one (``LexicalIndex.load``).
    """
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return []
    live = set(json.loads(manifest.read_text())["segments"])
    removed = []
    for path in folder.iterdir():
        staging = path.name.startswith(".") and path.name.endswith(".tmp")
        if path.is_dir() and (
            staging or (path.name.startswith("segment-") and path.name not in live)
        ):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    (folder / "manifest.tmp").unlink(missing_ok=True)
    return sorted(removed)


def remove_old_generations(folder: Path, generation: int) -> None:
    """Drop live masks and vocabularies of generations before the previous one."""
    for path in folder.glob("**/live.*.npy"):
        if int(path.name.split(".")[1]) < generation - 1:
            path.unlink(missing_ok=True)
    for path in folder.glob("vocabulary.*.json"):
        if int(path.name.split(".")[1]) < generation - 1:
            path.unlink(missing_ok=True)
