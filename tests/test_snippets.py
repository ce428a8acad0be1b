"""Snippets: matched words marked, everything else escaped."""

from __future__ import annotations

from paperfeed.search.snippets import describe_match, make_snippet, query_stems


def test_matched_words_are_marked_whatever_their_form() -> None:
    stems = query_stems(["diffusion models"])
    snippet = make_snippet("Diffusion models and a diffusion model.", stems)
    assert snippet == (
        "<mark>Diffusion</mark> <mark>models</mark> and a <mark>diffusion</mark> "
        "<mark>model</mark>."
    )


def test_text_is_escaped_so_markup_shows_as_text() -> None:
    snippet = make_snippet("<script>alert(1)</script> attack", query_stems(["attack"]))
    assert snippet.startswith("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert snippet.endswith("<mark>attack</mark>")


def test_long_text_is_cut_around_the_matches() -> None:
    text = " ".join(["filler"] * 100 + ["needle"] + ["filler"] * 100)
    snippet = make_snippet(text, query_stems(["needle"]), width=10)
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert "<mark>needle</mark>" in snippet and snippet.count("filler") < 12


def test_describe_match_lists_title_and_abstract_words_once() -> None:
    snippet, matched = describe_match(
        "Sparse Attention", "Sparse attention patterns for attention.", query_stems(["attention"])
    )
    assert matched == ["Attention"]
    assert snippet.count("<mark>") == 2
