"""Links found in source data (code repositories, project pages): http(s) only.

A ``javascript:`` or ``data:`` URL in a record would become a clickable link on every
page that shows the paper, so anything but an absolute http(s) URL with a host is
dropped where it is stored and again where it is shown.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\"'<>\\`]")


def web_link(value: str | None) -> str | None:
    """``value`` if it is an absolute ``http://`` or ``https://`` URL with a host, else None."""
    if not value:
        return None
    candidate = value.strip()
    if _UNSAFE.search(candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return candidate
