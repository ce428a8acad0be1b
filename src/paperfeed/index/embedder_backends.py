"""Embedders behind optional extras: sentence-transformers (torch) and Model2Vec.

These import the shared names (:mod:`paperfeed.index.embedding_types`), never the core,
so the default install stays torch-free; a missing package raises :class:`EmbedderError`
naming the extra.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from paperfeed.index.embedding_types import Embedder, EmbedderError, FloatMatrix, normalize_rows


def _import_extra(module: str, extra: str, spec: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise EmbedderError(
            f"embedder spec {spec!r} needs the {module!r} package: "
            f"pip install 'paperfeed[{extra}]' ({error})"
        ) from error


class SentenceTransformerEmbedder:
    """A sentence-transformers model run by torch on the CPU."""

    def __init__(self, name: str, model: Any) -> None:
        self.name = name
        self.dimension = int(model.get_sentence_embedding_dimension())
        self._model = model

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Encode with the model's own pooling, then L2-normalise."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=32, convert_to_numpy=True)
        return normalize_rows(vectors)


class Model2VecEmbedder:
    """A static Model2Vec model: a token-embedding lookup and a mean, no neural network."""

    def __init__(self, name: str, model: Any) -> None:
        self.name = name
        self._model = model
        self.dimension = int(np.asarray(model.encode(["dimension probe"])).shape[1])

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Encode and L2-normalise (Model2Vec normalises only if its config says so)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalize_rows(np.asarray(self._model.encode(list(texts))))


@functools.lru_cache(maxsize=4)
def load_sentence_transformer(spec: str, name_or_path: str, threads: int) -> Embedder:
    """Load (once per process) a sentence-transformers model; may download it from the Hub.

    Args:
        spec: the full spec, kept as the embedder's name.
        name_or_path: a Hugging Face model id or a local folder.
        threads: torch CPU threads; 0 leaves torch's default.

    Returns:
        The loaded embedder.
    """
    module = _import_extra("sentence_transformers", "sentence-transformers", spec)
    if threads:
        _import_extra("torch", "sentence-transformers", spec).set_num_threads(threads)
    try:
        model = module.SentenceTransformer(name_or_path, device="cpu")
    except Exception as error:  # the library raises OSError, ValueError, HTTP errors, ...
        raise EmbedderError(
            f"cannot load sentence-transformers model {name_or_path!r}: {error}"
        ) from error
    return SentenceTransformerEmbedder(spec, model)


@functools.lru_cache(maxsize=4)
def load_model2vec(spec: str, name_or_path: str) -> Embedder:
    """Load (once per process) a Model2Vec static model; may download it from the Hub.

    Args:
        spec: the full spec, kept as the embedder's name.
        name_or_path: a Hugging Face model id or a local folder.

    Returns:
        The loaded embedder.
    """
    module = _import_extra("model2vec", "model2vec", spec)
    try:
        model = module.StaticModel.from_pretrained(name_or_path)
    except Exception as error:  # the library raises OSError, ValueError, HTTP errors, ...
        raise EmbedderError(f"cannot load model2vec model {name_or_path!r}: {error}") from error
    return Model2VecEmbedder(spec, model)
