"""Text embedders: turn paper text into L2-normalised float32 vectors for dense search.

The default, ``minilm``, is sentence-transformers/all-MiniLM-L6-v2 exported to ONNX and shipped
inside the package (``paperfeed/data/models/minilm``), so the runtime needs only onnxruntime
and ``tokenizers``, never torch, and nothing is downloaded. Specs accepted by
:func:`load_embedder`:

* ``minilm``: the bundled ONNX model (default).
* ``onnx:/path/to/dir``: a folder holding ``model.onnx`` + ``tokenizer.json`` (and optionally
  ``model.json``); mean pooling over the attention mask, then L2 normalisation.
* ``sentence-transformers:NAME_OR_PATH``: any sentence-transformers model (extra
  ``sentence-transformers``).
* ``model2vec:NAME_OR_PATH``: a static Model2Vec model (extra ``model2vec``).
* ``hashing`` / ``hashing:DIM``: dependency-free feature hashing, used by the fast tests.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paperfeed.config import Settings
from paperfeed.index.embedding_types import Embedder as Embedder
from paperfeed.index.embedding_types import EmbedderError as EmbedderError
from paperfeed.index.embedding_types import FloatMatrix as FloatMatrix
from paperfeed.index.embedding_types import normalize_rows as normalize_rows
from paperfeed.index.execution_providers import check_session, session_providers
from paperfeed.index.onnx_fusions import disabled_fusions

DEFAULT_SPEC = "minilm"
BUNDLED_MODELS_DIR = Path(__file__).resolve().parent.parent / "data" / "models"
DEFAULT_HASHING_DIMENSION = 256
# An onnxruntime call takes texts of similar length (inputs are sorted by token count
# first, so a batch pads to the longest of its neighbours) up to this many rows and this
# many padded tokens: long abstracts go 32 at a time, titles and queries many more.
ONNX_BATCH_ROWS = 128
ONNX_BATCH_TOKENS = 8192
_FALLBACK_MAX_TOKENS = 512
QUERY_CACHE_SIZE = 4096  # query vectors kept per process (384 float32 = 1.5 KiB each)
_WORD = re.compile(r"\w+")


def embedding_text(title: str, abstract: str) -> str:
    """What a paper is embedded as: ``title + ". " + abstract``, skipping empty parts.

    Args:
        title: the paper title.
        abstract: the paper abstract.

    Returns:
        The text to embed; a title already ending in punctuation gets no extra full stop.
    """
    title, abstract = title.strip(), abstract.strip()
    if not title:
        return abstract
    if not abstract:
        return title
    separator = " " if title[-1] in ".?!" else ". "
    return f"{title}{separator}{abstract}"


def available_threads() -> int:
    """CPU cores this process may run on (respects affinity masks, unlike ``os.cpu_count``)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class HashingEmbedder:
    """Signed feature hashing of lowercased word unigrams and bigrams.

    The "hashing trick" (Weinberger et al., 2009, "Feature Hashing for Large Scale Multitask
    Learning"): each feature is hashed to a bucket and a sign, so collisions cancel in
    expectation. blake2b makes it stable across processes (Python's ``hash`` is salted).
    A text without any word embeds as the zero vector.
    """

    def __init__(self, dimension: int = DEFAULT_HASHING_DIMENSION, name: str = "hashing") -> None:
        if dimension < 2:
            raise EmbedderError(f"hashing dimension {dimension} is too small (expected >= 2)")
        self.name = name
        self.dimension = dimension

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Return one signed, hashed, L2-normalised bag of unigrams and bigrams per text."""
        matrix = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            features = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
            for feature in features:
                bucket, sign = _hashed_feature(feature, self.dimension)
                matrix[row, bucket] += sign
        return normalize_rows(matrix)


@functools.lru_cache(maxsize=1 << 18)
def _hashed_feature(feature: str, dimension: int) -> tuple[int, float]:
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    # The low bit picks the sign, the remaining bits the bucket, so the two are independent.
    return (digest >> 1) % dimension, 1.0 if digest & 1 else -1.0


@dataclass(frozen=True)
class _OnnxRuntime:
    """A loaded ONNX session with its tokenizer; shared by every embedder of the same folder."""

    session: Any  # onnxruntime.InferenceSession (untyped library)
    tokenizer: Any  # tokenizers.Tokenizer, padding disabled: batches are padded here
    input_names: frozenset[str]
    pad_id: int
    dimension: int
    pooling: str
    max_tokens: int
    # int8 with dynamically quantised activations (model.json "precision": "int8...")
    quantised_activations: bool = False
    # onnxruntime calls run at once, each on one thread (see OnnxEmbedder.embed)
    concurrent_calls: int = 1


class OnnxEmbedder:
    """A transformer encoder run by onnxruntime: tokenise, encode, mean-pool, normalise.

    ``max_tokens`` truncates each text to at most that many tokens (0: the model's own
    window, 256 for the bundled MiniLM); it only ever shortens the window.
    ``batch_rows``/``batch_tokens`` bound one onnxruntime call (see ``ONNX_BATCH_*``).

    An int8 model runs one text per call. Its activations are quantised dynamically
    (``DynamicQuantizeLinear``, and the same inside ``QAttention``): one scale and zero
    point per *tensor*, from the min and max of the whole padded batch. A row's vector
    then depends on its neighbours and on the padding (the empty string, only
    ``[CLS] [SEP]``, came out at cosine 0.96 to itself alone here and 0.946 on AVX2
    CPUs, whose u8s8 kernels saturate and add error of their own). Alone, every text
    gets the same scale wherever it is embedded, on any CPU, and queries (always
    embedded alone) meet documents on equal terms. Measured on two shared cores with one
    thread, one row per call was no slower than length-sorted batches (the padding
    work a batch saves is about what the batch adds back); fp32 exports, and any model on
    a GPU (where each call costs a launch), keep batching.

    Such one-text calls are too small to share well between cores: onnxruntime splits
    every operator of one call across its threads and waits for all of them after each.
    So with N threads the session has one thread and N calls run at once (a session may
    be run from several threads; each call releases the GIL). On 2 cores that embedded
    SciFact abstracts 1.24x faster, at 19.0 instead of 22.6 CPU ms a text
    (docs/embedders.md).
    """

    def __init__(
        self,
        name: str,
        runtime: _OnnxRuntime,
        max_tokens: int = 0,
        batch_rows: int = ONNX_BATCH_ROWS,
        batch_tokens: int = ONNX_BATCH_TOKENS,
    ) -> None:
        self.name = name
        self.dimension = runtime.dimension
        self.max_tokens = min(max_tokens or runtime.max_tokens, runtime.max_tokens)
        self.batch_rows = 1 if runtime.quantised_activations else max(1, batch_rows)
        self.batch_tokens = max(1, batch_tokens)
        self._runtime = runtime

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed ``texts`` in length-bucketed batches; rows come back in input order."""
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return result
        encodings = self._runtime.tokenizer.encode_batch(list(texts))
        lengths = [min(len(encoding.ids), self.max_tokens) for encoding in encodings]
        # Sorting by token count means each batch pads to a similar length, which cuts the
        # wasted attention work on padding; ``order`` maps the rows back afterwards.
        order = sorted(range(len(encodings)), key=lengths.__getitem__)
        batches: list[list[int]] = []
        start = 0
        while start < len(order):
            # rows sorted ascending: the last row of a batch sets its padded width
            end = start + 1
            while (
                end < len(order)
                and end - start < self.batch_rows
                and (end - start + 1) * lengths[order[end]] <= self.batch_tokens
            ):
                end += 1
            batches.append(order[start:end])
            start = end
        groups = [[encodings[row] for row in batch] for batch in batches]
        calls = self._runtime.concurrent_calls
        if calls > 1 and len(groups) > 1:
            with ThreadPoolExecutor(min(calls, len(groups))) as pool:
                vectors = list(pool.map(self._embed_batch, groups))
        else:
            vectors = [self._embed_batch(group) for group in groups]
        for batch, rows in zip(batches, vectors, strict=True):
            result[batch] = rows
        return result

    def _embed_batch(self, encodings: Sequence[Any]) -> FloatMatrix:
        runtime = self._runtime
        width = min(max(len(encoding.ids) for encoding in encodings), self.max_tokens)
        input_ids = np.full((len(encodings), width), runtime.pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(encodings), width), dtype=np.int64)
        token_type_ids = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids = encoding.ids
            if len(ids) > width:  # a shorter window than the tokenizer's: keep [SEP] last
                ids = ids[: width - 1] + ids[-1:]
            length = len(ids)
            input_ids[row, :length] = ids
            attention_mask[row, :length] = 1
            token_type_ids[row, :length] = encoding.type_ids[:length]
        feeds = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "token_type_ids": token_type_ids,
        }
        # Exports differ in which inputs they declare (e.g. no token_type_ids); feed only those.
        outputs = runtime.session.run(
            None, {key: value for key, value in feeds.items() if key in runtime.input_names}
        )
        hidden = np.asarray(outputs[0], dtype=np.float32)
        if hidden.ndim == 2:  # the export already pools (e.g. a "sentence_embedding" output)
            return normalize_rows(hidden)
        if runtime.pooling == "cls":
            return normalize_rows(hidden[:, 0, :])
        # Mean pooling over real tokens only, as sentence-transformers' Pooling module does.
        mask = attention_mask[:, :, None].astype(np.float32)
        summed = (hidden * mask).sum(axis=1)
        counts = np.maximum(mask.sum(axis=1), np.float32(1e-9))
        return normalize_rows(summed / counts)


def load_embedder(
    spec: str,
    threads: int = 0,
    max_tokens: int = 0,
    spinning: bool = False,
    provider: str = "cpu",
    for_queries: bool = False,
) -> Embedder:
    """Load the embedder named by ``spec`` (see the module docstring for the specs).

    Args:
        spec: ``minilm``, ``onnx:DIR``, ``sentence-transformers:NAME``, ``model2vec:NAME``,
            ``hashing`` or ``hashing:DIM``.
        threads: CPU threads for the runtime; 0 means all cores available to this process.
        max_tokens: ONNX models: truncate texts to this many tokens (0: the model's window).
        spinning: ONNX models: let idle intra-op threads spin for work (onnxruntime's
            ``session.intra_op.allow_spinning``). Off, they sleep: less CPU per short
            query, and no core burnt between calls in a server.
        provider: onnxruntime execution provider for ONNX models, ``cpu`` or ``cuda``
            (see :mod:`paperfeed.index.execution_providers`).
        for_queries: texts come one at a time (search queries): an int8 ONNX model's
            threads then share each call, where otherwise each runs calls of its own
            (see :class:`OnnxEmbedder`).

    Returns:
        An :class:`Embedder` whose ``name`` is ``spec``.

    Raises:
        EmbedderError: the spec is unknown, its files are missing or its extra is not installed.
    """
    if threads < 0:
        raise EmbedderError(f"threads={threads} must be >= 0 (0 means all cores)")
    if max_tokens < 0 or 0 < max_tokens < 8:
        raise EmbedderError(f"max_tokens={max_tokens} must be 0 (the model's window) or >= 8")
    kind, _, argument = spec.strip().partition(":")
    # one thread runs one call either way: the same session (loaded once) serves both
    for_queries = for_queries and (threads or available_threads()) > 1
    if kind == "minilm" and not argument:
        runtime = _load_onnx_runtime(
            BUNDLED_MODELS_DIR / "minilm", threads, spinning, provider, for_queries
        )
        return OnnxEmbedder(spec, runtime, max_tokens)
    if kind == "onnx" and argument:
        folder = Path(argument).expanduser().resolve()
        runtime = _load_onnx_runtime(folder, threads, spinning, provider, for_queries)
        return OnnxEmbedder(spec, runtime, max_tokens)
    if kind == "hashing":
        return HashingEmbedder(_parse_hashing_dimension(spec, argument), name=spec)
    if kind in ("sentence-transformers", "model2vec") and argument:
        # Imported here because the backends import this module (extras depend on the core).
        from paperfeed.index import embedder_backends

        if kind == "model2vec":
            return embedder_backends.load_model2vec(spec, argument)
        return embedder_backends.load_sentence_transformer(spec, argument, threads)
    raise EmbedderError(
        f"unknown embedder spec {spec!r} (expected minilm, onnx:DIR, hashing[:DIM], "
        "sentence-transformers:NAME or model2vec:NAME)"
    )


def load_configured_embedder(settings: Settings, for_queries: bool = False) -> Embedder:
    """The embedder the settings name, with their thread, window and spinning options;
    ``for_queries``: with ``PAPERFEED_QUERY_THREADS`` threads (one query at a time).

    Raises:
        EmbedderError: as :func:`load_embedder`, naming the setting the spec came from.
    """
    try:
        return load_embedder(
            settings.embed_model,
            threads=settings.query_threads if for_queries else settings.embed_threads,
            max_tokens=settings.embed_max_tokens,
            spinning=settings.embed_spinning,
            provider=settings.embed_provider,
            for_queries=for_queries,
        )
    except EmbedderError as error:
        raise EmbedderError(f"PAPERFEED_EMBED_MODEL={settings.embed_model!r}: {error}") from None


def _parse_hashing_dimension(spec: str, argument: str) -> int:
    if not argument:
        return DEFAULT_HASHING_DIMENSION
    try:
        return int(argument)
    except ValueError:
        raise EmbedderError(
            f"embedder spec {spec!r}: hashing dimension {argument!r} is not a whole number"
        ) from None


@functools.lru_cache(maxsize=8)
def _load_onnx_runtime(
    folder: Path,
    threads: int,
    spinning: bool = False,
    provider: str = "cpu",
    for_queries: bool = False,
) -> _OnnxRuntime:
    """Load (once per process and folder) the ONNX session and tokenizer under ``folder``."""
    model_path, tokenizer_path = folder / "model.onnx", folder / "tokenizer.json"
    for required in (model_path, tokenizer_path):
        if not required.is_file():
            raise EmbedderError(f"embedding model file not found: {required}")
    metadata = _read_model_metadata(folder / "model.json")

    import onnxruntime
    from tokenizers import Tokenizer

    threads = threads or available_threads()
    providers = session_providers(provider, onnxruntime.get_available_providers())
    if "CUDAExecutionProvider" not in providers:
        # no CUDA here (warned): embed exactly as the CPU path does (its threads, its
        # kernels, one text a call for int8), so the vectors are the CPU's
        provider = "cpu"
    int8 = str(metadata.get("precision", "")).startswith("int8")
    # one thread a call and that many calls at once (see OnnxEmbedder); a query is one
    # text, one call, so its threads split that call
    concurrent_calls = threads if int8 and provider == "cpu" and not for_queries else 1
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads // concurrent_calls
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        session = onnxruntime.InferenceSession(
            str(model_path),
            sess_options=options,
            providers=providers,
            # only the CPU's kernels were probed (a GPU provider brings its own)
            disabled_optimizers=list(disabled_fusions()) if provider == "cpu" else [],
        )
    except Exception as error:  # onnxruntime raises its own untyped exception classes
        raise EmbedderError(f"cannot load ONNX model {model_path}: {error}") from error
    running = check_session(session, provider)

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    truncation = tokenizer.truncation or {}
    max_tokens = int(metadata.get("max_tokens") or truncation.get("max_length") or 0)
    tokenizer.enable_truncation(max_length=max_tokens or _FALLBACK_MAX_TOKENS)
    padding = tokenizer.padding or {}
    pad_id = int(padding.get("pad_id", tokenizer.token_to_id("[PAD]") or 0))
    tokenizer.no_padding()

    pooling = str(metadata.get("pooling", "mean"))
    if pooling not in ("mean", "cls"):
        raise EmbedderError(f"{folder / 'model.json'}: pooling {pooling!r} is not mean or cls")
    output_shape = session.get_outputs()[0].shape
    dimension = metadata.get("dimension") or output_shape[-1]
    if not isinstance(dimension, int):
        raise EmbedderError(
            f"cannot tell the embedding dimension of {model_path} (output shape {output_shape}); "
            f"add a model.json with a 'dimension' next to it"
        )
    return _OnnxRuntime(
        session=session,
        tokenizer=tokenizer,
        input_names=frozenset(node.name for node in session.get_inputs()),
        pad_id=pad_id,
        dimension=dimension,
        pooling=pooling,
        max_tokens=max_tokens or _FALLBACK_MAX_TOKENS,
        # only on the CPU: a GPU pays per call, and there a batch is worth its noise
        quantised_activations=int8 and running == "cpu",
        concurrent_calls=concurrent_calls,
    )


def _read_model_metadata(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise EmbedderError(f"cannot read model metadata {path}: {error}") from error
    if not isinstance(metadata, dict):
        raise EmbedderError(f"model metadata {path} is not a JSON object")
    return metadata


class QueryVectors:
    """Query embeddings with a thread-safe LRU cache keyed by the exact text.

    A site sees the same queries again and again (paging, sorting, filters, popular
    topics); embedding one short query costs milliseconds of CPU, a cache hit none.
    """

    def __init__(self, embedder: Embedder, size: int = QUERY_CACHE_SIZE) -> None:
        self.embedder = embedder
        self.size = size
        self._entries: OrderedDict[str, FloatMatrix] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def vector(self, text: str) -> FloatMatrix:
        """The (read-only) unit vector of ``text``."""
        with self._lock:
            found = self._entries.get(text)
            if found is not None:
                self._entries.move_to_end(text)
                self.hits += 1
                return found
        vector: FloatMatrix = self.embedder.embed([text])[0]
        vector.setflags(write=False)  # shared by every caller: nobody may change it
        with self._lock:
            self.misses += 1
            self._entries[text] = vector
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return vector
