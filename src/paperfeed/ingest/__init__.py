"""Ingest: one module per source format, each turning records into ``Paper``\\ s.

Records that cannot be used come out as ``Rejection``\\ s (file, line, reason), never
as exceptions; ``IngestError`` is for sources that cannot be read at all. No storage
code lives here: the store merges papers across sources and cleans their text with
``clean_text``.
"""

from __future__ import annotations

from paperfeed.ingest.errors import IngestError
from paperfeed.ingest.formats import FORMATS, detect_format, read_source
from paperfeed.ingest.identifiers import (
    is_doi,
    normalize_arxiv_id,
    normalize_doi,
    normalize_paper_id,
)
from paperfeed.ingest.links import web_link
from paperfeed.ingest.text_cleaning import clean_text, fold_for_matching, quoted

__all__ = [
    "FORMATS",
    "IngestError",
    "clean_text",
    "detect_format",
    "fold_for_matching",
    "is_doi",
    "normalize_arxiv_id",
    "normalize_doi",
    "normalize_paper_id",
    "quoted",
    "read_source",
    "web_link",
]
