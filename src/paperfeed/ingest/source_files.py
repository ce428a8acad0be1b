"""Opening source files: plain or gzip-compressed, told apart by their first bytes."""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO, TextIO, cast

from paperfeed.ingest.errors import IngestError

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
# A POSIX tar header carries "ustar" at byte 257 of its first 512-byte block.
_TAR_MAGIC_OFFSET = 257
_TAR_MAGIC = b"ustar"

# Errors a truncated or corrupt file raises while it is being read.
READ_ERRORS = (OSError, EOFError, zlib.error)


def open_binary(path: Path) -> io.BufferedIOBase:
    """Open ``path`` for reading bytes, decompressing it when it is gzip (by magic bytes).

    Raises:
        IngestError: the file cannot be opened.
    """
    try:
        with path.open("rb") as probe:
            compressed = probe.read(2) == GZIP_MAGIC
        if compressed:
            return gzip.open(path, "rb")
        return path.open("rb")
    except OSError as error:
        raise IngestError(f"cannot read '{path}': {error.strerror or error}") from None


def open_text(path: Path) -> TextIO:
    """Open ``path`` as UTF-8 text (a byte-order mark is skipped), decompressing gzip.

    Newlines are passed through untranslated, as the ``csv`` module wants.

    Raises:
        IngestError: the file cannot be opened.
    """
    return io.TextIOWrapper(cast(BinaryIO, open_binary(path)), encoding="utf-8-sig", newline="")


_HEAD_CHUNK = 1 << 16


def read_head(path: Path, size: int) -> bytes:
    """Return the first ``size`` bytes of ``path``, decompressed if it is gzip; of a
    truncated or corrupt file, what could be read before the damage (the read proper
    then says where it ends and what was stored).

    Raises:
        IngestError: the file cannot be opened, or not one byte of it decompressed.
    """
    head = bytearray()
    with open_binary(path) as stream:
        try:
            # one decompressed block at a time (``read1``): a ``read`` that meets the
            # damage loses every byte it had gathered
            while len(head) < size:
                chunk = stream.read1(min(_HEAD_CHUNK, size - len(head)))
                if not chunk:
                    break
                head += chunk
        except READ_ERRORS as error:
            if not head:
                raise IngestError(f"cannot read '{path}': {error}") from None
    return bytes(head)


def is_tar_archive(head: bytes) -> bool:
    """Tell from the (decompressed) first bytes of a file whether it is a tar archive."""
    return head[_TAR_MAGIC_OFFSET : _TAR_MAGIC_OFFSET + len(_TAR_MAGIC)] == _TAR_MAGIC


def first_character(head: bytes) -> bytes:
    """The first non-whitespace byte of ``head`` (after a UTF-8 byte-order mark), or b""."""
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
