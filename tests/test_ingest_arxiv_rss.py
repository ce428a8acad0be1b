"""Reading arXiv's daily listing feed, RSS and Atom, with every announce type."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperfeed.ingest import IngestError
from paperfeed.ingest.arxiv_rss import listing_url, parse_listing

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "arxiv_rss"


def test_rss_listing_with_all_announce_types() -> None:
    listing = parse_listing((FIXTURES / "cs_2026-07-01.xml").read_bytes(), "u")
    assert listing.day == "2026-07-01" and listing.rejections == []
    assert [(item.arxiv_id, item.announce_type) for item in listing.announcements] == [
        ("2606.30647", "new"),
        ("2606.30775", "new"),
        ("2606.30776", "new"),
        ("2606.99999", "new"),
        ("2606.30673", "cross"),
        ("2606.30777", "replace"),
        ("2606.30754", "replace-cross"),
    ]
    only = next(paper for paper in listing.papers if paper.arxiv_id == "2606.99999")
    assert only.abstract == (
        "A paper announced in the listing before its OAI-PMH record was harvested."
    )
    assert only.categories == ["cs.LG"] and only.first_listed == "2026-07-01"
    cross = next(paper for paper in listing.papers if paper.arxiv_id == "2606.30673")
    assert cross.first_listed is None  # only a new submission is first listed that day


def test_atom_listing_and_an_empty_day() -> None:
    listing = parse_listing((FIXTURES / "cs_2026-07-01.atom").read_bytes(), "u")
    assert listing.day == "2026-07-01"
    assert [item.announce_type for item in listing.announcements] == [
        "new",
        "cross",
        "replace-cross",
    ]
    first = listing.papers[0]
    assert first.authors == ["Ada Rewrite", "Bo Suffix"]
    assert first.categories == ["cs.CL", "cs.AI"]
    assert first.abstract == "Enterprise AI agents route user queries to specialized skills."
    weekend = parse_listing((FIXTURES / "cs_2026-07-04.xml").read_bytes(), "u")
    assert weekend.day == "2026-07-04" and weekend.announcements == []


def test_bad_feeds_and_items_are_named() -> None:
    body = (FIXTURES / "cs_2026-07-01.xml").read_bytes()
    odd = body.replace(b">cross</arxiv:announce_type>", b">crossed</arxiv:announce_type>")
    listing = parse_listing(odd, "u")
    assert [str(rejection) for rejection in listing.rejections] == [
        "u:5: 2606.30673: unknown announce type 'crossed' "
        "(expected one of new, cross, replace, replace-cross)"
    ]
    huge = body.replace(
        b"<title>Sparse Probing of Listing-Only Papers</title>",
        b"<title>" + b"t" * 1001 + b"</title>",
    )
    capped = parse_listing(huge, "u")
    assert len(capped.announcements) == 7  # announced all the same
    assert "2606.99999" not in {paper.arxiv_id for paper in capped.papers}
    assert [str(rejection) for rejection in capped.rejections] == [
        "u:4: record 2606.99999: title is 1,001 characters long (at most 1,000)"
    ]
    with pytest.raises(IngestError, match="u: not XML"):
        parse_listing(b"<html><body>502", "u")
    with pytest.raises(IngestError, match=r"u: not an RSS or Atom feed \(root element <html>\)"):
        parse_listing(b"<html/>", "u")
    assert listing_url("https://rss.arxiv.org/", "physics:hep-th") == (
        "https://rss.arxiv.org/rss/hep-th"
    )
