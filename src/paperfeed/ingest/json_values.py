"""JSON decoding that a hostile document cannot crash: bounded depth and number size.

``json.loads`` recurses once per nesting level and raises ``RecursionError`` (not a
``ValueError``) near Python's recursion limit, and refuses integers longer than 4,300
digits with a ``ValueError`` for the whole document. One bad entry in a day's list
must not cost the day's other entries, so a list that fails that way is split into its
top-level items by a scan that counts brackets outside strings (no recursion), and each
item is decoded on its own: the deep one becomes a rejection, the rest are kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# A daily-papers entry is 4 levels deep; nothing we read comes near 100.
MAX_JSON_DEPTH = 100
# Longer integers are read as floats (inf past 1e308): the count checks refuse them
# with the record named, where int() would refuse the whole document.
_LONGEST_INTEGER = 30

# A JSON string (with escapes), or one structural character.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
_ID = re.compile(rb'"id"\s*:\s*"([^"\\]{1,64})"')


class JsonTooDeep(ValueError):
    """The document nests arrays or objects deeper than ``MAX_JSON_DEPTH``."""

    def __init__(self, depth: int) -> None:
        super().__init__(f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep ({depth})")
        self.depth = depth


def _bounded_integer(text: str) -> int | float:
    return int(text) if len(text) <= _LONGEST_INTEGER else float(text)


def loads(data: bytes | str) -> Any:
    """``json.loads`` with huge integers read as floats and too deep a document refused.

    Raises:
        JsonTooDeep: nested past what the parser can take (no ``RecursionError`` escapes).
        ValueError: not valid JSON (``json.JSONDecodeError``) or not UTF-8.
    """
    try:
        return json.loads(data, parse_int=_bounded_integer)
    except RecursionError:
        raw = data.encode() if isinstance(data, str) else data
        raise JsonTooDeep(_deepest(raw)) from None


@dataclass(frozen=True)
class ListItem:
    """One top-level item of a JSON list: its value, or why it could not be read."""

    value: Any = None
    problem: str | None = None
    record_id: str | None = None  # the first ``"id": "…"`` in it, to name a rejected item


def loads_list_items(data: bytes) -> list[ListItem] | None:
    """Decode a top-level JSON list item by item; None when ``data`` is not a list.

    An item nested deeper than ``MAX_JSON_DEPTH``, or that is not valid JSON on its
    own, comes back with ``problem`` set; the other items are decoded.
    """
    spans = _split_list(data)
    if spans is None:
        return None
    items = []
    for start, end, depth in spans:
        chunk = data[start:end]
        found = _ID.search(chunk)
        record_id = found.group(1).decode("utf-8", "replace") if found else None
        if depth > MAX_JSON_DEPTH:
            items.append(ListItem(problem=str(JsonTooDeep(depth)), record_id=record_id))
            continue
        try:
            items.append(ListItem(value=loads(chunk)))
        except ValueError as error:
            items.append(ListItem(problem=f"invalid JSON: {error}", record_id=record_id))
    return items


def _split_list(data: bytes) -> list[tuple[int, int, int]] | None:
    """(start, end, deepest level) of each top-level item, without recursing."""
    spans: list[tuple[int, int, int]] = []
    depth = 0
    deepest = 0
    start = -1
    for match in _TOKEN.finditer(data):
        token = match.group()[:1]
        if token in b"[{":
            if depth == 0:
                if token != b"[" or data[: match.start()].strip():
                    return None
                start = match.end()
            depth += 1
            deepest = max(deepest, depth - 1)
        elif token in b"]}":
            depth -= 1
            if depth == 0:
                if data[start : match.start()].strip() or spans:
                    spans.append((start, match.start(), deepest))
                return spans if not data[match.end() :].strip() else None
        elif token == b"," and depth == 1:
            spans.append((start, match.start(), deepest))
            start, deepest = match.end(), 0
    return None


def _deepest(data: bytes) -> int:
    depth = deepest = 0
    for match in _TOKEN.finditer(data):
        token = match.group()[:1]
        if token in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in b"]}":
            depth -= 1
    return deepest
