"""BM25F segments: scores against a direct formula, updates, persistence."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from paperfeed.index.lexical import Document, LexicalIndex
from paperfeed.index.tokenizer import tokenize

CORPUS = {
    1: "Kullback-Leibler divergence between Gaussian mixtures",
    2: "Variational inference minimises the KL divergence",
    3: "Diffusion models for image generation",
    4: "Image generation with generative adversarial networks and diffusion",
    5: "Reinforcement learning from human feedback",
}


def _index(field_weights: dict[str, float] | None = None) -> LexicalIndex:
    index = LexicalIndex(field_weights=field_weights or {"abstract": 1.0})
    index.add_documents(
        [Document(key, {"abstract": tokenize(text)}) for key, text in CORPUS.items()], "s1"
    )
    return index


def _reference_bm25(query: str, k1: float = 1.2, b: float = 0.75) -> dict[int, float]:
    """Okapi BM25 written out term by term, as the reference."""
    documents = {key: tokenize(text) for key, text in CORPUS.items()}
    average = sum(len(tokens) for tokens in documents.values()) / len(documents)
    scores = dict.fromkeys(documents, 0.0)
    for term in set(tokenize(query)):
        frequency = sum(term in tokens for tokens in documents.values())
        if not frequency:
            continue
        idf = math.log(1 + (len(documents) - frequency + 0.5) / (frequency + 0.5))
        for key, tokens in documents.items():
            tf = tokens.count(term)
            scores[key] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(tokens) / average))
    return scores


def test_single_field_scores_rank_like_okapi_bm25() -> None:
    index = _index()
    for query in ["diffusion image generation", "KL divergence", "learning"]:
        scores = index.score([(term, None) for term in tokenize(query)])
        reference = _reference_bm25(query)
        keys = index.live_keys()
        # ours omits the constant (k1 + 1) factor of each term, so compare scaled
        for key, value in zip(keys.tolist(), scores.tolist(), strict=True):
            assert math.isclose(value * 2.2, reference[key], rel_tol=1e-5, abs_tol=1e-6)


def test_top_returns_best_first_and_respects_a_key_mask() -> None:
    index = _index()
    scores = index.score([(term, None) for term in tokenize("diffusion generation")])
    keys, values = index.top(scores, 10)
    assert set(keys.tolist()) == {3, 4}
    assert list(values) == sorted(values, reverse=True)
    allowed = np.zeros(10, bool)
    allowed[4] = True
    keys, _ = index.top(scores, 10, allowed)
    assert keys.tolist() == [4]


def test_update_replaces_old_copy_and_persists(tmp_path: Path) -> None:
    index = _index()
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    loaded.add_documents([Document(3, {"abstract": tokenize("Protein folding")})], "s2")
    loaded.save(tmp_path)
    again = LexicalIndex.load(tmp_path)
    assert len(again.segments) == 2
    assert again.live_count == 5
    diffusion = again.score([("diffus", None)])
    assert again.top(diffusion, 10)[0].tolist() == [4]
    assert again.keys_with("protein").tolist() == [3]


def test_title_weight_lifts_title_matches() -> None:
    index = LexicalIndex(field_weights={"title": 3.0, "abstract": 1.0})
    index.add_documents(
        [
            Document(1, {"title": tokenize("Sparse attention"), "abstract": tokenize("A method")}),
            Document(2, {"title": tokenize("A method"), "abstract": tokenize("Sparse attention")}),
        ],
        "s1",
    )
    keys, _ = index.top(index.score([(t, None) for t in tokenize("sparse attention")]), 2)
    assert keys.tolist() == [1, 2]
    title_only = index.score([(t, "title") for t in tokenize("sparse")])
    assert index.top(title_only, 2)[0].tolist() == [1]


def test_merging_segments_keeps_scores_and_drops_dead_documents(tmp_path: Path) -> None:
    index = _index()
    index.add_documents([Document(3, {"abstract": tokenize("Protein folding")})], "s2")
    index.add_documents([Document(6, {"abstract": tokenize("Protein design")})], "s3")
    query = [(term, None) for term in tokenize("protein diffusion generation")]
    before = dict(
        zip(*(array.tolist() for array in index.top(index.score(query), 10)), strict=True)
    )
    index.merge_segments("merged")
    assert len(index.segments) == 1 and index.live_count == 6
    assert len(index.segments[0].keys) == 6  # the dead copy of key 3 is gone
    after = dict(zip(*(array.tolist() for array in index.top(index.score(query), 10)), strict=True))
    assert set(after) == set(before) == {3, 4, 6}
    index.save(tmp_path)
    assert LexicalIndex.load(tmp_path).keys_with("protein").tolist() == [3, 6]


def test_ascii_and_unicode_texts_give_the_terms_of_the_unicode_pattern() -> None:
    """Folded ASCII texts are split by a plain [A-Za-z0-9] pattern (faster): every bundled
    title and abstract, and texts with underscores, digits and non-ASCII letters, give the
    same words and terms as the [^\\W_] pattern the index was built with."""
    import gzip
    import json
    import re

    from paperfeed.index.tokenizer import STOP_WORDS, fold, stem, tokenize, words
    from paperfeed.quickstart import BUNDLE

    unicode_words = re.compile(r"[^\W_]+").findall
    with gzip.open(BUNDLE / "papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    texts = [record[field] for record in records[:3000] for field in ("title", "abstract")]
    texts += ["snake_case x_1 under__score 3.14 e-mail", "naïve café Straße μ-law 東京 tokens"]
    assert any(not fold(text).isascii() for text in texts)
    for text in texts:
        expected = unicode_words(fold(text))
        assert words(text) == expected
        assert tokenize(text) == [stem(word) for word in expected if word not in STOP_WORDS]
