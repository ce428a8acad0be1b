"""The search syntax, including what happens to malformed input."""

from __future__ import annotations

from paperfeed.search.query import parse_query


def test_plain_words() -> None:
    query = parse_query("KL divergence")
    assert list(query.words) == ["KL", "divergence"]
    assert query.semantic_text == "KL divergence"
    assert list(query.notes) == []


def test_phrases_exclusions_fields_and_filters() -> None:
    query = parse_query(
        'diffusion "classifier-free guidance" -video ti:sampling au:"Yang Song" '
        "cat:cs.LG since:2025-01 until:2025-06-30"
    )
    assert list(query.words) == ["diffusion"]
    assert list(query.phrases) == ["classifier-free guidance"]
    assert list(query.excluded) == ["video"]
    assert list(query.fielded) == [("title", "sampling"), ("authors", "Yang Song")]
    assert list(query.categories) == ["cs.LG"]
    assert (query.since, query.until) == ("2025-01-01", "2025-06-30")
    assert "Yang Song" not in query.semantic_text


def test_date_range_and_year() -> None:
    query = parse_query("date:2025-03..2025-04 agents")
    assert (query.since, query.until) == ("2025-03-01", "2025-04-31")
    query = parse_query("since:2024")
    assert query.since == "2024-01-01"


def test_arxiv_id_and_url_are_recognised() -> None:
    assert list(parse_query("2401.00165v2").arxiv_ids) == ["2401.00165"]
    assert list(parse_query("https://arxiv.org/abs/2401.00165").arxiv_ids) == ["2401.00165"]
    assert list(parse_query("arxiv.org/pdf/2401.00165v1.pdf").arxiv_ids) == ["2401.00165"]
    assert list(parse_query("hep-th/9901001").arxiv_ids) == ["hep-th/9901001"]
    assert list(parse_query("see 2401.00165 retrieval").arxiv_ids) == ["2401.00165"]


def test_an_empty_prefix_is_ignored_with_a_note() -> None:
    # "au:" alone searched the word "au" (a gold symbol, an abbreviation) without a word
    for typed, kept, prefix in (
        ("diffusion au:", ["diffusion"], "au:"),
        ("ti: sampling", ["sampling"], "ti:"),
    ):
        query = parse_query(typed)
        assert list(query.words) == kept and not query.fielded, typed
        assert any(f"empty {prefix} ignored" in note for note in query.notes), query.notes
    assert parse_query("cat: diffusion").words == ["diffusion"]
    # an empty phrase searched nothing and said nothing
    empty = parse_query('"" diffusion -""')
    assert empty.words == ["diffusion"] and not empty.phrases and not empty.excluded
    assert sum("empty phrase" in note for note in empty.notes) == 2, empty.notes
    assert parse_query("BERT: a survey").words == ["BERT:", "a", "survey"]


def test_malformed_syntax_falls_back_with_a_note() -> None:
    query = parse_query('"unbalanced phrase search')
    assert list(query.words) == ["unbalanced", "phrase", "search"]
    assert any("unbalanced quote" in note for note in query.notes)
    query = parse_query("since:yesterday cat:!!")
    assert query.since is None and list(query.categories) == []
    assert any("since:yesterday" in note for note in query.notes)
    assert any("'!!'" in note for note in query.notes)
    # the right shape, a day the month lacks: ignored and said, as since:yesterday
    query = parse_query("diffusion since:2025-02-29 until:2025-04-31")
    assert query.since is None and query.until is None
    assert "ignored since:2025-02-29 (February 2025 has no day 29)" in query.notes
    assert "ignored until:2025-04-31 (April 2025 has no day 31)" in query.notes
    assert parse_query("x since:2024-02-29").since == "2024-02-29"  # a leap year's


def test_unknown_prefix_is_text() -> None:
    query = parse_query("BERT: pretraining foo:bar")
    assert list(query.words) == ["BERT:", "pretraining", "foo:bar"]


def test_a_negated_filter_is_ignored_with_a_note_not_obeyed() -> None:
    """ "-cat:cs.CV" used to keep only cs.CV, and "-since:2026" only what came after."""
    query = parse_query("diffusion -cat:cs.CV -since:2026 -until:2020 -id:2401.00165 -au:Hinton")
    assert list(query.words) == ["diffusion"]
    assert list(query.categories) == [] and query.since is None and query.until is None
    assert list(query.arxiv_ids) == [] and list(query.excluded) == ["Hinton"]
    dates = "(a date cannot be left out: since: and until: bound the dates to keep)"
    assert list(query.notes) == [
        "ignored -cat:cs.CV (a category cannot be left out: name the ones to keep with cat:)",
        f"ignored -since:2026 {dates}",
        f"ignored -until:2020 {dates}",
        "ignored -id:2401.00165 (an id cannot be left out)",
    ]
    assert parse_query("diffusion -cat:cs.CV").canonical == parse_query("diffusion").canonical
