"""Row ids in paths and bodies, bounded to what the database can hold (1 .. 2^63-1).

Without the bound an id of 2^63 reached the driver and answered 500; with it the
schema documents the range and a value outside it is a 400 naming the value (the store
also finds no row for one, so a caller that skips this gets a 404, never a 500).

A comment's ``parent`` in a JSON body is left unbounded in the schema on purpose:
FastAPI's OpenAPI models turn a body field's bound into a float (9.223372036854776e+18,
which is 2^63, one past the range), so the document would allow what the server
refuses. Out of range, it is simply not found (404), like any unknown comment.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from paperfeed.store.database import MAX_ROW_ID

CollectionId = Annotated[
    int, Path(ge=1, le=MAX_ROW_ID, description="the collection's id (a positive integer)")
]
CommentId = Annotated[
    int, Path(ge=1, le=MAX_ROW_ID, description="the comment's id (a positive integer)")
]
