"""The one exception ingest raises to its callers."""

from __future__ import annotations


class IngestError(ValueError):
    """A source cannot be read at all: missing, unreadable, or of an unknown format.

    Problems with single records are not errors: they come out as ``Rejection``\\ s.
    """
