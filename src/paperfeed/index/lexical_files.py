"""The lexical index's files: each segment's ``.npy`` arrays, generations, the atomic
manifest switch, and cleaning up what a killed save or a merge left behind (the index
itself is ``index/lexical.py``; it names no file)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from paperfeed.index.lexical_types import FIELDS, FILTER_FIELDS, Postings, Segment
from paperfeed.index.term_sequences import TermSequences

# the field each filter-only field was split from (read in its place from older formats)
FILTER_FIELD_SOURCES = {filtered: scored for scored, filtered in FILTER_FIELDS.items()}


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


def write_segment(folder: Path, segment: Segment, generation: int) -> None:
    """Write ``segment``'s arrays once (staged, then renamed into place) and its live
    mask of ``generation``; a segment already on disk only gets the new live mask."""
    segment_folder = folder / segment.name
    if not (segment_folder / "keys.npy").exists():
        staging = folder / f".{segment.name}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        np.save(staging / "keys.npy", segment.keys)
        for field_name in FIELDS:
            save_postings(staging, field_name, segment.fields[field_name])
            np.save(staging / f"{field_name}.lengths.npy", segment.lengths[field_name])
        save_postings(staging, "combined", segment.combined)
        if segment.sequences is not None:
            segment.sequences.save(staging)
        os.replace(staging, segment_folder)
    np.save(segment_folder / f"live.{generation}.npy", segment.live)


def read_segment(folder: Path, name: str, generation: int) -> Segment:
    """The segment ``name`` with its live mask of ``generation``."""
    segment_folder = folder / name
    # a field a segment of an older format lacks reads as the field it was split from
    stored = {
        field_name: field_name
        if (segment_folder / f"{field_name}.lengths.npy").exists()
        else FILTER_FIELD_SOURCES.get(field_name, field_name)
        for field_name in FIELDS
    }
    return Segment(
        name=name,
        keys=np.load(segment_folder / "keys.npy"),
        live=np.load(segment_folder / f"live.{generation}.npy"),
        lengths={
            field_name: np.load(segment_folder / f"{stored[field_name]}.lengths.npy")
            for field_name in FIELDS
        },
        fields={
            field_name: load_postings(segment_folder, stored[field_name]) for field_name in FIELDS
        },
        combined=load_postings(segment_folder, "combined"),
        sequences=TermSequences.load(segment_folder),
    )


def save_postings(folder: Path, name: str, postings: Postings) -> None:
    np.save(folder / f"{name}.indptr.npy", postings.indptr)
    np.save(folder / f"{name}.docs.npy", postings.docs)
    np.save(folder / f"{name}.values.npy", postings.values)


def load_postings(folder: Path, name: str) -> Postings:
    return Postings(
        np.load(folder / f"{name}.indptr.npy"),
        np.load(folder / f"{name}.docs.npy"),
        np.load(folder / f"{name}.values.npy"),
    )
