"""arXiv identifiers: the one normal form every source is mapped to."""

from __future__ import annotations

import re
import urllib.parse

# arXiv's identifier scheme (https://info.arxiv.org/help/arxiv_identifier.html):
# new-style ids are YYMM.NNNN from April 2007 (0704) to December 2014, YYMM.NNNNN from
# January 2015; old-style ids are an archive, an optional subject class, then YYMMNNN,
# e.g. hep-th/9901001, math.GT/0309136, cond-mat.stat-mech/0102536. MM is a month in
# both. Digits are ASCII: ``\d`` would let "２４０１.00165" through.
_ARCHIVES = (
    *("astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph"),
    *("nlin", "nucl-ex", "nucl-th", "physics", "quant-ph", "math", "cs", "q-bio", "q-fin"),
    "stat",
    # archives since folded into the ones above; their papers keep the old names
    *("acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an", "chao-dyn"),
    *("chem-ph", "cmp-lg", "comp-gas", "dg-ga", "funct-an", "mtrl-th", "patt-sol"),
    *("plasm-ph", "q-alg", "solv-int", "supr-con"),
)
_MONTH = r"(?:0[1-9]|1[0-2])"
_IDENTIFIER = re.compile(
    rf"(?P<identifier>(?P<new>[0-9]{{2}}{_MONTH})\.(?P<number>[0-9]{{4,5}})"
    rf"|(?:{'|'.join(re.escape(archive) for archive in _ARCHIVES)})"
    rf"(?:\.[A-Za-z]+(?:-[A-Za-z]+)*)?/[0-9]{{2}}{_MONTH}[0-9]{{3}})"
    r"(?:v[0-9]+)?"
)
_FIRST_NEW_STYLE = "0704"
# A page URL an id is pasted in: arXiv's abstract, PDF or HTML page, or the daily-papers
# site's paper page (the site paperfeed is modelled on).
_PAGE_URL = (
    r"(?:https?://)?(?:(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/"
    r"|(?:www\.)?huggingface\.co/papers/)"
)
# Everything a person may paste around an id: a prefix or a page URL.
_DECORATED_IDENTIFIER = re.compile(
    rf"(?:arxiv:|{_PAGE_URL})?(?P<identifier>.+?)(?:\.pdf)?/?",
    re.IGNORECASE,
)
# A page URL's query or fragment (``?context=cs``, ``#community``) says nothing of the id.
_PAGE_URL_TAIL = re.compile(rf"({_PAGE_URL}[^?#]+)[?#].*", re.IGNORECASE | re.DOTALL)


def normalize_arxiv_id(raw: str) -> str | None:
    """Return the bare arXiv id in ``raw``, or ``None`` if ``raw`` is not one.

    Accepts surrounding whitespace, an ``arXiv:`` prefix, ``https://arxiv.org/abs/…``
    and ``…/pdf/….pdf`` URLs (a query or fragment after them too), the daily-papers
    site's ``https://huggingface.co/papers/…`` and a version suffix, which is dropped because every
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
    if match is None:
        tail = _PAGE_URL_TAIL.fullmatch(text)
        decorated = _DECORATED_IDENTIFIER.fullmatch(tail.group(1) if tail else text)
        if decorated is None:
            return None
        match = _IDENTIFIER.fullmatch(decorated.group("identifier"))
    return match.group("identifier") if match is not None and _in_use(match) else None


def _in_use(match: re.Match[str]) -> bool:
    """Whether a new-style id's month is one with new-style ids (from 0704); an old-style
    id's shape says all there is to check. The number's length is not checked against
    the month (four digits to 1412, five from 1501): a four-digit number of a later
    month names no paper, but it is read as the id it plainly means, not as words."""
    month = match.group("new")
    return month is None or month >= _FIRST_NEW_STYLE


# A DOI: "10." + registrant code, "/", then any printable characters (the suffix is
# opaque; Crossref allows parentheses, semicolons, even "<"). DOIs compare without
# regard to case (https://www.doi.org/the-identifier/resources/handbook/2_numbering),
# so the normal form is lower-case.
_DOI = re.compile(r"10\.\d{4,9}/\S+")
# What a person may paste around a DOI: a prefix, a resolver URL, or a bioRxiv/medRxiv
# content URL (``…/content/10.1101/2024.01.02.123456v2`` with an optional
# ``.full``/``.full.pdf``/``.abstract`` tail, whose version suffix is dropped).
_DECORATED_DOI = re.compile(
    r"(?:doi:\s*|(?:https?://)?(?:dx\.)?doi\.org/|"
    r"(?:https?://)?(?:www\.|connect\.)?(?:biorxiv|medrxiv)\.org/content/(?:early/[\d/]+/)?)"
    r"(?P<doi>10\.\S+?)"
    r"(?:v\d+)?(?:\.full(?:\.pdf)?|\.abstract|\.full-text|\.supplementary-material)?/?",
    re.IGNORECASE,
)
_VERSION_SUFFIX = re.compile(r"(?<=\d)v\d+$")
_PREPRINT_URL = re.compile(r"(?:https?://)?(?:www\.|connect\.)?(?:biorxiv|medrxiv)\.org/", re.I)


def normalize_doi(raw: str) -> str | None:
    """Return the DOI in ``raw`` in lower case, or ``None`` if ``raw`` holds none.

    Accepts a bare DOI, ``doi:…``, ``https://doi.org/…`` and bioRxiv/medRxiv content
    URLs (their ``v2`` version suffix dropped, as arXiv's is).
    """
    text = raw.strip()
    match = _DECORATED_DOI.fullmatch(text)
    if match is not None:
        doi = match.group("doi")
        if _PREPRINT_URL.match(text) is None:
            # only preprint-server URLs carry a version suffix; a bare DOI keeps its "v2"
            doi = text[match.start("doi") :].rstrip("/")
        return _without_version(doi.lower()) if _DOI.fullmatch(doi) else None
    return _without_version(text.lower()) if _DOI.fullmatch(text) else None


def _without_version(doi: str) -> str:
    # bioRxiv/medRxiv (prefix 10.1101) name a version "v2" after the DOI; never part of it
    return _VERSION_SUFFIX.sub("", doi) if doi.startswith("10.1101/") else doi


def is_doi(paper_id: str) -> bool:
    """Whether a (normalised) paper id is a DOI rather than an arXiv id."""
    return paper_id.startswith("10.")


def normalize_paper_id(raw: str) -> str | None:
    """A paper's id in its normal form: an arXiv id (``normalize_arxiv_id``) or, for
    papers from bioRxiv and medRxiv, a lower-case DOI (``normalize_doi``).

    Returns:
        ``"2401.00165"``, ``"10.1101/2024.01.02.123456"``, or ``None`` for neither.
    """
    return normalize_arxiv_id(raw) or normalize_doi(raw)


def url_id(paper_id: str) -> str:
    """A paper id as it goes into a URL path: percent-encoded, its ``/`` kept (a DOI's
    suffix may hold ``(``, ``;``, ``<``, ``#`` or ``?``; arXiv ids pass unchanged)."""
    return urllib.parse.quote(paper_id, safe="/")
