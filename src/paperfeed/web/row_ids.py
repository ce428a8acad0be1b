"""Row ids in paths, bounded to what every database can hold (1 .. 2^31-1).

Without the bound an id of 2^63 (2^31 on PostgreSQL) reached the driver and answered
500; with it the schema documents the range and a value outside it is a 400 naming the
value (the store also finds no row for one, so a caller that skips this gets a 404,
never a 500).

A comment's ``parent`` in a JSON body is left unbounded in the schema on purpose:
FastAPI's OpenAPI models turn a body field's bound into a float, so the document and
the check could disagree at the edge. Out of range, a parent is simply not found (404),
like any unknown comment.
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
UserId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="the user's id (a positive integer)")]
InviteId = Annotated[
    int, Path(ge=1, le=MAX_ROW_ID, description="the invite's id (a positive integer)")
]
ReportId = Annotated[
    int, Path(ge=1, le=MAX_ROW_ID, description="the report's id (a positive integer)")
]
