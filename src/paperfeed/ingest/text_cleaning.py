"""Raw source text -> text for display and indexing; accent-insensitive folding.

Abstracts arrive as arXiv stores them: hard-wrapped at ~80 columns and sprinkled
with LaTeX (``$\\alpha$``, ``\\emph{…}``, ``Schr\\"odinger``). ``clean_text`` turns that
into plain readable Unicode. It is a cheap heuristic, not a TeX parser: it works on
regular expressions only, so odd input (unbalanced braces, a lone ``$``) can come out
imperfect but never raises.
"""

from __future__ import annotations

import re
import unicodedata

from paperfeed.ingest.latex_symbols import (
    BLACKBOARD_LETTERS,
    FORMATTING_COMMANDS,
    GREEK_LETTERS,
    LETTER_ACCENTS,
    MATH_SYMBOLS,
    SPACE_COMMANDS,
    SPECIAL_LETTERS,
    SYMBOL_ACCENTS,
    WORD_COMMANDS,
)

# Literal characters that later steps would otherwise eat are parked in the Unicode
# private-use area and restored at the end.
_DOLLAR = "\ue000"
_LEFT_BRACE = "\ue001"
_RIGHT_BRACE = "\ue002"
_PLACEHOLDERS = ((_DOLLAR, "$"), (_LEFT_BRACE, "{"), (_RIGHT_BRACE, "}"))

_COMMAND_TEXT = GREEK_LETTERS | MATH_SYMBOLS | SPECIAL_LETTERS | WORD_COMMANDS

# Text without any of these has no LaTeX and skips straight to whitespace ("in" tests
# are plain memory scans, several times faster than one regex search).
_LATEX_MARKERS = ("\\", "$", "~", "{", "}", "--")
_ESCAPED_CHARACTER = re.compile(r"\\([\\$%&#_{}])")
_ESCAPED_TEXT = {
    "\\": " ",  # \\ is a forced line break
    "$": _DOLLAR,
    "{": _LEFT_BRACE,
    "}": _RIGHT_BRACE,
    "%": "%",
    "&": "&",
    "#": "#",
    "_": "_",
}
# Commands whose first argument is not text: dropped together with it.
_COMMAND_WITH_HIDDEN_ARGUMENT = re.compile(
    r"\\(?:cite[a-zA-Z]*|nocite|label|ref|eqref|autoref|cref|Cref|color|textcolor|colorbox"
    r"|href|begin|end|unicode|hspace|vspace|includegraphics)\*?\s*(?:\[[^\]]*\]\s*)?\{[^{}]*\}"
)
_FRACTION = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_BINOMIAL = re.compile(r"\\binom\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SIMPLE_OPERAND = re.compile(r"\w+|\\[A-Za-z]+")
_BLACKBOARD = re.compile(r"\\mathbb\s*\{\s*([A-Za-z])\s*\}")
_DEGREE = re.compile(r"\^\s*(?:\{\s*\\circ\s*\}|\\circ(?![A-Za-z]))")
_INVISIBLE_DELIMITER = re.compile(r"\\(?:left|right|middle)\s*\.")
_ACCENTED_LETTER = r"(\\[ij](?![A-Za-z])|[A-Za-z])"
_SYMBOL_ACCENT = re.compile(
    r"\\([\"'`^~=.])\s*(?:\{\s*" + _ACCENTED_LETTER + r"\s*\}|" + _ACCENTED_LETTER + ")"
)
# \c{c} or "\c c"; the spaced form only before a lone letter, so \cdot is never read as \c.
_LETTER_ACCENT = re.compile(
    r"\\([cukvHrdb])(?:\s*\{\s*"
    + _ACCENTED_LETTER
    + r"\s*\}|\s+"
    + _ACCENTED_LETTER
    + r"(?![A-Za-z]))"
)
_COMMAND = re.compile(r"\\([A-Za-z]+)\*?")
_SYMBOL_COMMAND = re.compile(r"\\([^A-Za-z])")
_SYMBOL_COMMAND_TEXT = {",": " ", ";": " ", ":": " ", ">": " ", " ": " ", "|": "‖"}
_SILENT_SYMBOL_COMMANDS = frozenset("!/-()[]\n")
# Three words in a row mark a "$...$" candidate as prose between two dollar amounts.
_PROSE = re.compile(r"[A-Za-z]{2,}[\s,.;:]+[A-Za-z]{2,}[\s,.;:]+[A-Za-z]{2,}")
_MATH_CHARACTERS = frozenset("\\^_{}=")
# "$\sim$N" must not become the command "\simN" once the dollars are gone.
_TRAILING_COMMAND = re.compile(r"\\[A-Za-z]+\*?$")
_LONGEST_INLINE_MATH = 400
_EM_DASH = re.compile(r"(?<!-)---(?!-)")
_EN_DASH = re.compile(r"(?<=\w)--(?=\w)|(?<=\s)--(?=\s)")
# "~" is TeX's non-breaking space inside a phrase ("Fig.~3", "13~mm") but means
# "about" before a number ("(~1B requests)", " ~20%") and is part of URLs ("/~user").
_NON_BREAKING_SPACE = re.compile(r"(?<=[^\s(/~])~(?=\S)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# A line ending in a hyphen inside a compound ("state-of-the-\nart") joins without a space.
_HYPHEN_AT_LINE_END = re.compile(r"(?<=\w)-\n[ \t]*(?=\w)")

# Letters NFKD does not decompose into a base letter plus a mark.
_FOLDED_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ȷ": "j"}
    | {"æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH"}
)


def clean_text(raw: str) -> str:
    """Turn raw source text into one readable line per paragraph.

    Joins hard line breaks, keeps a blank-line paragraph break as one newline,
    collapses other whitespace, renders common LaTeX as Unicode and normalises to NFC.

    Args:
        raw: title or abstract as the source gave it.

    Returns:
        The cleaned text; ``""`` for blank input.
    """
    # (a NUL is no text, and PostgreSQL refuses one)
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if any(marker in text for marker in _LATEX_MARKERS):
        text = _render_latex(text)
    return unicodedata.normalize("NFC", _join_lines(text))


def fold_for_matching(text: str) -> str:
    """Fold ``text`` for accent- and case-insensitive matching: "Schrödinger" -> "schrodinger".

    NFKD splits accented letters (and ligatures such as "ﬁ") into base letters and
    combining marks; the marks are dropped, a few letters without a decomposition
    (ø, ł, æ) are spelled out, and ``casefold`` lowercases (ß -> ss).
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    # only the non-ASCII runs can hold a combining mark: an abstract with one curly quote
    # was walked character by character (149 -> 92 us a non-ASCII bundled text)
    base_letters = _NON_ASCII_RUN.sub(_without_combining_marks, decomposed)
    return base_letters.translate(_FOLDED_LETTERS).casefold()


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def _without_combining_marks(run: re.Match[str]) -> str:
    return "".join(character for character in run.group() if not unicodedata.combining(character))


def _join_lines(text: str) -> str:
    if "\n" not in text:
        return " ".join(text.split())
    if "-\n" in text:
        text = _HYPHEN_AT_LINE_END.sub("-", text)
    paragraphs = (" ".join(paragraph.split()) for paragraph in _PARAGRAPH_BREAK.split(text))
    return "\n".join(paragraph for paragraph in paragraphs if paragraph)


def _render_latex(text: str) -> str:
    for placeholder, _ in _PLACEHOLDERS:
        text = text.replace(placeholder, "")
    text = _ESCAPED_CHARACTER.sub(lambda match: _ESCAPED_TEXT[match.group(1)], text)
    if "$" in text:
        text = _strip_math_delimiters(text)
    if "\\" in text:
        text = _render_commands(text)
    if "{" in text or "}" in text:
        text = text.replace("{", "").replace("}", "")
    if "--" in text:
        text = _EN_DASH.sub("–", _EM_DASH.sub("—", text))
    if "~" in text:
        text = _NON_BREAKING_SPACE.sub(" ", text)
    for placeholder, character in _PLACEHOLDERS:
        text = text.replace(placeholder, character)
    return text


def _render_commands(text: str) -> str:
    text = _COMMAND_WITH_HIDDEN_ARGUMENT.sub("", text)
    text = _FRACTION.sub(_render_fraction, text)
    text = _BINOMIAL.sub(lambda match: f"({match.group(1)} choose {match.group(2)})", text)
    text = _BLACKBOARD.sub(lambda match: BLACKBOARD_LETTERS.get(match[1], match[1]), text)
    text = _DEGREE.sub("°", text)
    text = _INVISIBLE_DELIMITER.sub("", text)
    text = _SYMBOL_ACCENT.sub(lambda match: _accent(match, SYMBOL_ACCENTS), text)
    text = _LETTER_ACCENT.sub(lambda match: _accent(match, LETTER_ACCENTS), text)
    text = _COMMAND.sub(_render_command, text)
    return _SYMBOL_COMMAND.sub(_render_symbol_command, text)


def _render_fraction(match: re.Match[str]) -> str:
    numerator, denominator = (
        part if _SIMPLE_OPERAND.fullmatch(part.strip()) else f"({part})"
        for part in (match.group(1), match.group(2))
    )
    return f"{numerator}/{denominator}"


def _accent(match: re.Match[str], marks: dict[str, str]) -> str:
    letter = match.group(2) or match.group(3)
    # \i and \j are the dotless letters TeX puts accents on: \'\i -> í.
    return letter.lstrip("\\") + marks[match.group(1)]


def _render_command(match: re.Match[str]) -> str:
    name = match.group(1)
    text = _COMMAND_TEXT.get(name)
    if text is not None:
        return text
    if name in FORMATTING_COMMANDS:
        return ""
    if name in SPACE_COMMANDS:
        return " "
    # An author's own macro (\method, \ours) usually stands for a name: keep the word.
    return name


def _render_symbol_command(match: re.Match[str]) -> str:
    character = match.group(1)
    if character in _SILENT_SYMBOL_COMMANDS:
        return ""
    return _SYMBOL_COMMAND_TEXT.get(character, character)


def _strip_math_delimiters(text: str) -> str:
    """Drop the dollars around inline math, keeping dollars that are amounts ("$20")."""
    pieces = text.replace("$$", "$").split("$")
    if len(pieces) < 3:
        return text.replace("$$", "$")
    # pieces alternate between text outside and candidate math inside dollar pairs;
    # a candidate that does not look like math means its opening dollar was literal.
    output = [pieces[0]]
    index = 1
    while index < len(pieces):
        content = pieces[index]
        if index + 1 < len(pieces) and _looks_like_math(content):
            output.append(content + "{}" if _TRAILING_COMMAND.search(content) else content)
            output.append(pieces[index + 1])
            index += 2
        else:
            output.append("$")
            output.append(content)
            index += 1
    return "".join(output)


def _looks_like_math(content: str) -> bool:
    if not content.strip() or len(content) > _LONGEST_INLINE_MATH:
        return False
    if not _MATH_CHARACTERS.isdisjoint(content):
        return True
    if _PROSE.search(content):
        return False
    # "$20 and $30": an amount, then text up to the next amount's dollar.
    return not (content[0].isdigit() and content[-1].isspace())


def quoted(value: str, limit: int = 80) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters: a message
    names the bad value but never echoes an unbounded input back."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}… ({len(value)} characters)"
