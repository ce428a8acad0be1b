"""arXiv identifiers: the one normal form every source is mapped to."""

from __future__ import annotations

import re

# New-style ids (April 2007 on): YYMM.NNNN, and YYMM.NNNNN from January 2015.
# Old-style ids: archive, optional subject class, then YYMMNNN, e.g. hep-th/9901001,
# math.GT/0309136, cond-mat.stat-mech/0102536. See https://info.arxiv.org/help/arxiv_identifier.html
_IDENTIFIER = re.compile(
    r"(?P<identifier>\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]+(?:-[A-Za-z]+)*)?/\d{7})"
    r"(?:v\d+)?"
)
# Everything a person may paste around an id: a prefix or an abstract/PDF/HTML page URL.
_DECORATED_IDENTIFIER = re.compile(
    r"(?:arxiv:|(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/)?"
    r"(?P<identifier>.+?)"
    r"(?:\.pdf)?/?",
    re.IGNORECASE,
)


def normalize_arxiv_id(raw: str) -> str | None:
    """Return the bare arXiv id in ``raw``, or ``None`` if ``raw`` is not one.

    Accepts surrounding whitespace, an ``arXiv:`` prefix, ``https://arxiv.org/abs/…``
    and ``…/pdf/….pdf`` URLs and a version suffix, which is dropped because every
    version of a paper is the same record to us.

    Args:
        raw: text holding an id, e.g. ``"arXiv:2401.00165v2"``.

    Returns:
        The id without prefix or version (``"2401.00165"``, ``"hep-th/9901001"``), or
        ``None`` when the text is not an arXiv id.
    """
    text = raw.strip()
    # Fast path: the sources we read almost always hold the bare id already.
    match = _IDENTIFIER.fullmatch(text)
    if match is not None:
        return match.group("identifier")
    decorated = _DECORATED_IDENTIFIER.fullmatch(text)
    if decorated is None:
        return None
    match = _IDENTIFIER.fullmatch(decorated.group("identifier"))
    return match.group("identifier") if match is not None else None
