"""Column types of our own: what a column needs that the portable SQL types lack."""

from __future__ import annotations

from sqlalchemy.engine import Dialect
from sqlalchemy.types import String, TypeDecorator, UserDefinedType


class BucketKey(TypeDecorator[str]):
    """A rate limit's key, made of what a request sent (an address, say), stored so both
    databases take it: PostgreSQL refuses a NUL in text and no encoding holds an unpaired
    surrogate, so each is written as its backslash escape. Every value bound to the
    column, written or compared, goes through it; other text is unchanged."""

    impl = String(400)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or (value.isascii() and "\x00" not in value):
            return value
        escaped = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return escaped.replace("\x00", "\\x00")


class Vector(UserDefinedType[object]):
    """pgvector's ``vector`` type, undimensioned (each model's index casts to its own)."""

    cache_ok = True

    def get_col_spec(self, **_options: object) -> str:
        return "vector"
