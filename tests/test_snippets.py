"""Snippets: matched words marked, everything else escaped."""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict

import pytest

from paperfeed.search import snippets
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


def test_snippets_of_real_abstracts_show_the_text_as_written() -> None:
    """On real abstracts (with &, <, quotes, TeX): without its marks and ellipses, a snippet
    unescapes to a run of the abstract, and a word is marked exactly when its stem is
    queried."""
    import gzip
    import html
    import json
    import random
    import re

    from paperfeed.index.tokenizer import tokenize
    from paperfeed.quickstart import BUNDLE
    from paperfeed.search.snippets import _analyse

    with gzip.open(BUNDLE / "papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        abstracts = [json.loads(line)["abstract"] for line in lines]
    generator = random.Random(4)
    special = [text for text in abstracts if re.search(r"[&<>\"']", text)]
    assert len(special) > 20
    for text in special[:150] + generator.sample(abstracts, 150):
        terms = tokenize(text)
        stems = set(generator.sample(terms, min(3, len(terms))))
        snippet = make_snippet(text, stems)
        plain = snippet.removeprefix("… ").removesuffix(" …")
        assert html.unescape(plain.replace("<mark>", "").replace("</mark>", "")) in text
        marked = re.findall(r"<mark>([^<]*)</mark>", snippet)
        analysed = _analyse(text)
        words = [analysed.word(index) for index in range(len(analysed.stems))]
        stem_of = dict(zip(words, analysed.stems, strict=True))
        assert all(stem_of[word] in stems for word in marked)
        unmarked = re.sub(r"<mark>[^<]*</mark>", " ", plain)
        assert not any(
            stem_of.get(word) in stems for word in re.findall(r"[^\W_]+", html.unescape(unmarked))
        )


def test_ascii_texts_split_into_the_same_words_as_by_the_unicode_pattern() -> None:
    """An ASCII text is split by a plain [A-Za-z0-9] pattern (faster); every bundled title
    and abstract, ASCII or not, splits into the words and separators the Unicode pattern
    gives, underscores and digits included."""
    import gzip
    import json
    import re

    from paperfeed.quickstart import BUNDLE
    from paperfeed.search.snippets import _analyse

    unicode_split = re.compile(r"([^\W_]+)").split
    with gzip.open(BUNDLE / "papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    texts = [record[field] for record in records for field in ("title", "abstract")]
    texts += ["snake_case x_1 under__score 3.14 e-mail", "naïve café Straße μ-law 東京 tokens"]
    assert any(text.isascii() for text in texts) and any(not text.isascii() for text in texts)
    for text in texts:
        parts = unicode_split(text)
        analysed = _analyse(text)
        assert len(analysed.stems) == len(parts) // 2
        assert [analysed.word(index) for index in range(len(analysed.stems))] == parts[1::2]


def test_snippets_from_many_threads_while_the_text_cache_evicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The web server makes snippets in a thread pool; with the per-text cache full, every
    new text evicts the oldest, and two threads evicting at once must not fail."""
    monkeypatch.setattr(snippets, "ANALYSED_BYTES", 10_000)  # room for ~20 of these texts
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    failures: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            for number in range(3000):
                text = f"Text {thread} {number} about graph neural networks for molecules."
                assert "<mark>graph</mark>" in make_snippet(text, {"graph"})
        except BaseException as error:  # noqa: BLE001 - collected, then reported
            failures.append(error)

    try:
        threads = [threading.Thread(target=work, args=(thread,)) for thread in range(8)]
        for worker in threads:
            worker.start()
        for worker in threads:
            worker.join()
    finally:
        sys.setswitchinterval(previous)
    assert not failures, failures[:3]


def _split_by_pattern(text: str) -> tuple[list[str], list[int]]:
    parts = snippets._ASCII_WORD_SPLIT.split(text)
    bounds = [0]
    for part in parts:
        bounds.append(bounds[-1] + len(part))
    return parts[1::2], bounds


@pytest.mark.parametrize(
    "text",
    [
        "",
        "word",
        "  leading and trailing spaces  ",
        "Ends with a word",
        "(starts and ends with marks).",
        "snake_case x86-64 GPT-4o: 3.5x faster; p<0.05 & 100% <b>bold</b>\ttab\nline",
        "!!! ??? ...",
        "a" * 300,
    ],
)
def test_an_ascii_text_splits_by_its_bytes_as_by_the_pattern(text: str) -> None:
    words, bounds = snippets._split_ascii(text)
    assert (words, bounds.tolist()) == _split_by_pattern(text)


def test_random_ascii_texts_split_alike_and_snippets_do_not_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import random

    generator = random.Random(23)
    alphabet = "abcXYZ019 _-.,;:()<>&'\"\t\n%$#@!"
    texts = ["".join(generator.choices(alphabet, k=generator.randint(0, 900))) for _ in range(300)]
    for text in texts:
        words, bounds = snippets._split_ascii(text)
        assert (words, bounds.tolist()) == _split_by_pattern(text), text
    stems = query_stems(["abc 019 XYZ"])
    long_texts = [text for text in texts if len(text) >= snippets._ASCII_BYTES_FROM]
    for split_by in ("bytes", "pattern"):
        # a cache of its own for each pass (put back afterwards): every text split afresh
        monkeypatch.setattr(snippets, "_analysed", OrderedDict())
        monkeypatch.setattr(snippets, "_analysed_total", 0)
        if split_by == "bytes":
            by_bytes = [describe_match("a title", text, stems) for text in long_texts]
        else:
            monkeypatch.setattr(snippets, "_ASCII_BYTES_FROM", 10**9)  # the pattern for all
            assert [describe_match("a title", text, stems) for text in long_texts] == by_bytes
    assert len(long_texts) > 100 and any(matched for _, matched in by_bytes)
