"""The characters no text a user types may hold: names, comments, reasons, saved searches.

Control characters (C0 and DEL; a line feed and a tab only in a field of several lines)
would break a page, a mail header or a feed. An unpaired surrogate (what JSON's
``"\\ud800"`` escape decodes to) cannot be encoded as UTF-8, so no database, page or mail
can hold it: it is refused here, with the field named, before anything is written.
"""

from __future__ import annotations

import re

# one line: no line break of any kind (U+2028 and U+2029 end a line too)
_NOT_IN_A_LINE = re.compile("[\x00-\x1f\x7f\u2028\u2029\ud800-\udfff]")
# several lines: line feeds and tabs are text (carriage returns are normalised away first)
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def unwritable_character(text: str, lines: bool = False) -> str | None:
    """The first character of ``text`` that a field may not hold, described for an error
    message ("the control character U+0007", "the unpaired surrogate U+D800"), or None.
    ``lines``: the field holds several lines (a comment, a description)."""
    found = (_NOT_IN_TEXT if lines else _NOT_IN_A_LINE).search(text)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        return f"the unpaired surrogate U+{code:04X}"
    if code in (0x0A, 0x0D, 0x2028, 0x2029):
        return f"a line break (U+{code:04X})"
    return f"the control character U+{code:04X}"
