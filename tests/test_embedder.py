"""Embedders: the hashing fallback, the bundled ONNX MiniLM against sentence-transformers, specs."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from paperfeed.index.embedder import (
    BUNDLED_MODELS_DIR,
    EmbedderError,
    OnnxEmbedder,
    QueryVectors,
    embedding_text,
    load_embedder,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINILM_METADATA = json.loads((BUNDLED_MODELS_DIR / "minilm" / "model.json").read_text())
# Dynamic int8 quantisation moves vectors a little (7-bit weights: 0.9886-0.9929 on the
# fixture, with or without VNNI; the full-range weights shipped before fell to 0.9794 on an
# AVX2-only CPU, where VPMADDUBSW saturates); the fp32 export matches sentence-transformers
# to float rounding.
REFERENCE_MIN_COSINE = 0.995 if MINILM_METADATA.get("precision") == "fp32" else 0.985


def test_embedding_text_joins_title_and_abstract() -> None:
    assert embedding_text("Deep nets", "We study them.") == "Deep nets. We study them."
    assert embedding_text("Why deep nets?", "Because.") == "Why deep nets? Because."
    assert embedding_text("", " Only abstract. ") == "Only abstract."
    assert embedding_text("Only title", "") == "Only title"


def test_hashing_is_deterministic_and_normalised() -> None:
    texts = ["Graph neural networks for molecules", "graph NEURAL networks for molecules!", ""]
    first = load_embedder("hashing").embed(texts)
    second = load_embedder("hashing").embed(texts)
    assert first.dtype == np.float32
    assert first.shape == (3, 256)
    np.testing.assert_array_equal(first, second)
    # Case and punctuation do not matter; a text without words is the zero vector.
    np.testing.assert_allclose(first[0], first[1])
    np.testing.assert_allclose(np.linalg.norm(first[:2], axis=1), 1.0, rtol=1e-6)
    assert not first[2].any()


def test_hashing_puts_similar_texts_closer() -> None:
    vectors = load_embedder("hashing:512").embed(
        [
            "convolutional neural networks for image classification",
            "image classification with deep convolutional networks",
            "a survey of medieval church architecture in france",
        ]
    )
    assert vectors.shape == (3, 512)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


@pytest.mark.parametrize("spec", ["hashing:abc", "hashing:1"])
def test_bad_hashing_dimension_is_named(spec: str) -> None:
    with pytest.raises(EmbedderError, match=spec.partition(":")[2]):
        load_embedder(spec)


def test_bundled_minilm_matches_sentence_transformers() -> None:
    fixture = json.loads((FIXTURES / "minilm_reference.json").read_text())
    reference = np.load(FIXTURES / "minilm_reference.npy")
    embedder = load_embedder("minilm")
    vectors = embedder.embed(fixture["sentences"])
    assert embedder.name == "minilm"
    assert embedder.dimension == 384
    assert vectors.dtype == np.float32
    assert vectors.shape == reference.shape
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    cosines = (vectors * reference).sum(axis=1)
    assert cosines.min() >= REFERENCE_MIN_COSINE, dict(
        zip(fixture["sentences"], cosines, strict=True)
    )


def test_minilm_knows_kl_divergence_is_kullback_leibler() -> None:
    query, related, unrelated = load_embedder("minilm").embed(
        [
            "KL divergence",
            "The Kullback-Leibler divergence between probability distributions.",
            "A recipe for sourdough bread with a crisp crust.",
        ]
    )
    assert query @ related > query @ unrelated + 0.3


def test_minilm_keeps_input_order_across_length_sorted_batches() -> None:
    texts = [
        "short",
        " ".join(["a much longer text about variational inference"] * 20),
        "medium length text about transformers",
        "",
        " ".join(["text longer than the 256-token window of the model"] * 40),
    ] * 8  # 40 texts: more than one internal batch
    embedder = load_embedder("minilm")
    together = embedder.embed(texts)
    # The same texts in another order must come back permuted the same way.
    permutation = np.random.default_rng(0).permutation(len(texts))
    shuffled = embedder.embed([texts[i] for i in permutation])
    np.testing.assert_allclose(shuffled, together[permutation], atol=1e-5)
    # Each row is its own text's vector, not a neighbour's, and the very vector the text
    # gets alone (as a query is embedded): the int8 model's activation scale is per call,
    # so a batch used to shift its rows (the empty string: cosine 0.96 here, 0.946 on AVX2).
    alone = np.concatenate([embedder.embed([text]) for text in texts[:5]])
    similarity = together[:5] @ alone.T
    assert (similarity.argmax(axis=1) == np.arange(5)).all()
    assert similarity.diagonal().min() > 0.99999


@pytest.mark.parametrize("text", ["", "a", "short", "x y"])
def test_minilm_embeds_a_short_text_the_same_alone_and_in_any_batch(text: str) -> None:
    embedder = load_embedder("minilm")
    alone = embedder.embed([text])[0]
    for neighbours in (["short"], ["medium length text about transformers"] * 3, ["w " * 200]):
        in_batch = embedder.embed([text, *neighbours])[0]
        assert float(alone @ in_batch) > 0.99999, (text, neighbours)


def test_empty_input_gives_empty_matrix() -> None:
    vectors = load_embedder("minilm").embed([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


def test_onnx_session_is_loaded_once_per_process() -> None:
    first, second = load_embedder("minilm"), load_embedder("minilm", threads=0)
    assert first._runtime is second._runtime  # type: ignore[attr-defined]


def test_onnx_spec_loads_a_model_folder() -> None:
    embedder = load_embedder(f"onnx:{BUNDLED_MODELS_DIR / 'minilm'}")
    assert embedder.dimension == 384
    np.testing.assert_allclose(
        embedder.embed(["same model"]), load_embedder("minilm").embed(["same model"]), atol=1e-6
    )


def test_unknown_spec_is_named() -> None:
    with pytest.raises(EmbedderError, match="'bert-large'"):
        load_embedder("bert-large")


def test_missing_onnx_folder_names_the_path() -> None:
    with pytest.raises(EmbedderError, match="/nonexistent/model.onnx"):
        load_embedder("onnx:/nonexistent")


def test_onnx_folder_without_tokenizer_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"")
    with pytest.raises(EmbedderError, match="tokenizer.json"):
        load_embedder(f"onnx:{tmp_path}")


@pytest.mark.parametrize(
    ("spec", "module", "extra"),
    [
        (
            "sentence-transformers:all-MiniLM-L6-v2",
            "sentence_transformers",
            "sentence-transformers",
        ),
        ("model2vec:minishlab/potion-base-8M", "model2vec", "model2vec"),
    ],
)
def test_missing_extra_gives_install_hint(
    spec: str, module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    # None in sys.modules makes the import fail even where the package is installed.
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(EmbedderError, match=rf"pip install 'paperfeed\[{extra}\]'"):
        load_embedder(spec)


_LONG_START = " ".join(
    f"Sentence {i} of an abstract about stochastic gradient descent and its step sizes."
    for i in range(25)
)


def test_a_shorter_window_ignores_what_lies_beyond_it() -> None:
    """At 128 tokens two texts that differ only after ~300 tokens embed the same; at the
    model's own 256 they do not need to, but texts differing early always differ."""
    first = _LONG_START + " The end is about protein folding."
    second = _LONG_START + " The end is about sourdough bread."
    short = load_embedder("minilm", max_tokens=128).embed([first, second])
    np.testing.assert_allclose(short[0], short[1], atol=1e-6)
    different = load_embedder("minilm", max_tokens=128).embed(["protein folding", "bread"])
    assert float(different[0] @ different[1]) < 0.9


def test_window_and_spinning_keep_short_texts_unchanged() -> None:
    texts = ["KL divergence between Gaussians", "Robot grasping with tactile sensors"]
    default = load_embedder("minilm").embed(texts)
    for embedder in (
        load_embedder("minilm", max_tokens=128),
        load_embedder("minilm", spinning=True),
        load_embedder("minilm", threads=1),
    ):
        np.testing.assert_allclose(embedder.embed(texts), default, atol=2e-3)


@pytest.mark.parametrize("max_tokens", [-1, 3])
def test_bad_window_is_named(max_tokens: int) -> None:
    with pytest.raises(EmbedderError, match=f"max_tokens={max_tokens}"):
        load_embedder("minilm", max_tokens=max_tokens)


def test_length_bucketed_batches_respect_the_token_budget() -> None:
    """Many short and a few long texts: each onnxruntime call stays within its budget,
    and every row still matches the text embedded on its own. The bundled int8 model runs
    one text per call (its activation scale is per call); batching, as an fp32 export
    does, is checked on the same session with that flag off."""
    int8 = load_embedder("minilm")
    assert isinstance(int8, OnnxEmbedder) and int8.batch_rows == 1
    embedder = OnnxEmbedder(
        "minilm", dataclasses.replace(int8._runtime, quantised_activations=False)
    )
    assert embedder.batch_rows > 1
    calls: list[tuple[int, int]] = []
    original = embedder._embed_batch

    def spy(encodings: list[object]) -> np.ndarray:
        result = original(encodings)  # type: ignore[arg-type]
        width = min(max(len(e.ids) for e in encodings), embedder.max_tokens)  # type: ignore[attr-defined]
        calls.append((len(encodings), width))
        return result

    embedder._embed_batch = spy  # type: ignore[method-assign]
    texts = [f"short title number {i}" for i in range(300)] + [_LONG_START] * 40
    vectors = embedder.embed(texts)
    del embedder._embed_batch
    assert all(rows <= embedder.batch_rows for rows, _ in calls)
    assert all(rows == 1 or rows * width <= embedder.batch_tokens for rows, width in calls)
    assert len(calls) <= 3 + 40 * 256 // embedder.batch_tokens + 1
    alone = embedder.embed([texts[7], texts[-1]])
    assert float(vectors[7] @ alone[0]) > 0.98 and float(vectors[-1] @ alone[1]) > 0.98


def test_int8_texts_run_one_thread_a_call_and_several_calls_at_once() -> None:
    """With two threads the int8 model's session has one thread and two calls run at
    once, from different threads; each text comes back in its place, exactly as a
    one-thread embedder gives it (each call is the same one-thread computation)."""
    texts = [f"Paper {i}: " + _LONG_START[: 40 * (i % 7 + 1)] for i in range(24)]
    two = load_embedder("minilm", threads=2)
    assert isinstance(two, OnnxEmbedder) and two._runtime.concurrent_calls == 2
    threads_used: set[int] = set()
    original = two._embed_batch

    def spy(encodings: list[object]) -> np.ndarray:
        threads_used.add(threading.get_ident())
        return original(encodings)  # type: ignore[arg-type]

    two._embed_batch = spy  # type: ignore[method-assign]
    try:
        vectors = two.embed(texts)
    finally:
        del two._embed_batch
    assert len(threads_used) == 2
    one = load_embedder("minilm", threads=1)
    assert isinstance(one, OnnxEmbedder) and one._runtime.concurrent_calls == 1
    np.testing.assert_allclose(vectors, one.embed(texts), atol=1e-6)


def test_a_query_embedder_splits_its_one_call_over_its_threads() -> None:
    """Queries come one at a time: with two threads both work on that one call (no calls
    side by side), and the vector is the bulk embedder's to rounding; with one thread
    the query and the bulk embedder share one session."""
    query = load_embedder("minilm", threads=2, for_queries=True)
    assert isinstance(query, OnnxEmbedder) and query._runtime.concurrent_calls == 1
    assert query._runtime.session.get_session_options().intra_op_num_threads == 2
    bulk = load_embedder("minilm", threads=2)
    assert isinstance(bulk, OnnxEmbedder)
    assert bulk._runtime.session.get_session_options().intra_op_num_threads == 1
    text = ["KL divergence between two Gaussians"]
    np.testing.assert_allclose(query.embed(text), bulk.embed(text), atol=2e-3)
    single = load_embedder("minilm", threads=1, for_queries=True)
    assert isinstance(single, OnnxEmbedder)
    assert single._runtime is load_embedder("minilm", threads=1)._runtime  # type: ignore[attr-defined]


def test_query_vectors_are_cached_by_text() -> None:
    cache = QueryVectors(load_embedder("hashing"), size=2)
    first = cache.vector("graph neural networks")
    assert cache.vector("graph neural networks") is first
    assert (cache.hits, cache.misses) == (1, 1)
    with pytest.raises(ValueError):
        first[0] = 1.0  # shared between callers: read-only
    cache.vector("b")
    cache.vector("c")  # evicts the least recently used, "graph neural networks"
    assert cache.vector("graph neural networks") is not first
    assert cache.misses == 4
