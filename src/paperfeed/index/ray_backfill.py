"""The embedding backfill on a Ray cluster: ``paperfeed index --ray ADDRESS`` (or ``auto``).

The driver (this process) reads the papers that lack a fresh vector a window at a time,
hands each window to Ray Data as a dataset, and ``map_batches`` embeds it on a pool of
actors, each holding one ONNX session (one CPU, one thread: a cluster of N cores runs N
sessions). Batches come back as they finish and are written to the store at once, one
transaction each, exactly as the local path writes them, so a run stopped anywhere
(a killed worker, a killed driver, a lost cluster) is resumed by running it again: only
papers still lacking a fresh vector are sent. Ray restarts a killed actor and retries its
batch; the store's primary key makes a repeated write replace, never duplicate.

Every node needs paperfeed (same version) installed, as the actors import it; the papers'
texts travel to the cluster through Ray's object store and the vectors come back the same
way, so the cluster needs no access to the database.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from paperfeed.config import Settings
from paperfeed.index.embedder import (
    Embedder,
    EmbedderError,
    embedding_text,
    load_configured_embedder,
)
from paperfeed.index.embedding_chunks import embed_chunk_size
from paperfeed.progress import progress_bar
from paperfeed.store import Store
from paperfeed.store.embedding_rows import count_papers_to_embed, papers_to_embed, save_embeddings

# Papers per dataset: bounds the driver's memory (texts of one window, ~1.5 KB each)
# while keeping every actor busy; each window starts its own actor pool.
WINDOW_PAPERS = 20_000
REFRESH_SECONDS = 300.0
CONNECT_SECONDS = 10.0


def import_ray() -> ModuleType:
    """Ray with Ray Data, or an error naming the extra to install."""
    try:
        import ray
        import ray.data  # noqa: F401 - the part we use; missing without ray[data]
    except ImportError as error:
        raise EmbedderError(
            f"paperfeed index --ray needs Ray Data: pip install 'paperfeed[ray]' ({error})"
        ) from error
    # typed through a variable: Any without ray's stubs (CI's mypy runs before the extra)
    module: ModuleType = ray
    return module


class EmbedActor:
    """One Ray actor: loads the embedder once, then embeds chunk after chunk.

    Each dataset row is one whole chunk of papers, formed as the local path forms them
    (:func:`paperfeed.index.embedding_chunks.embed_chunk_size`) and embedded with one ``embed()``
    call, so the model sees exactly the batches it would see locally: with an int8 model,
    whose activations are quantised with each batch's own scale, that keeps the vectors
    equal.
    """

    def __init__(self, spec: str, settings: Settings) -> None:
        self.embedder: Embedder = load_configured_embedder(
            dataclasses.replace(settings, embed_model=spec, embed_threads=1)
        )

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        keys: list[int] = []
        hashes: list[str] = []
        vectors = []
        for chunk_keys, chunk_hashes, texts in zip(
            rows["keys"], rows["hashes"], rows["texts"], strict=True
        ):
            keys.extend(int(key) for key in chunk_keys)
            hashes.extend(str(value) for value in chunk_hashes)
            vectors.append(self.embedder.embed([str(text) for text in texts]))
        return {
            "key": np.asarray(keys, dtype=np.int64),
            "content_hash": np.asarray(hashes),
            "vector": np.concatenate(vectors).astype(np.float32),
        }


def _check_reachable(address: str) -> None:
    """Fail fast on a ``host:port`` nobody listens on (``ray.init`` would retry for minutes)."""
    host, _, port = address.rpartition(":")
    if address == "auto" or "://" in address or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as error:
        raise EmbedderError(f"cannot reach the Ray head at {address!r}: {error}") from None


def connect(address: str) -> ModuleType:
    """Join the Ray cluster at ``address`` (``host:port``, ``ray://host:port`` or ``auto``)."""
    ray = import_ray()
    _check_reachable(address)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # ours is the bar; Ray's would interleave with it
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    if not ray.is_initialized():
        try:
            ray.init(address=address, log_to_driver=False, logging_level="WARNING")
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise EmbedderError(f"cannot join the Ray cluster at {address!r}: {error}") from None
    return ray


def embed_pending_on_ray(
    store: Store,
    settings: Settings,
    address: str,
    limit: int | None = None,
    show_progress: bool = True,
    on_refresh: Callable[[], object] | None = None,
    actors: int | None = None,
    window: int = WINDOW_PAPERS,
) -> int:
    """Embed every paper lacking a fresh vector on the Ray cluster at ``address``.

    Args:
        store: the papers; vectors are written here as batches finish.
        settings: the model (``embed_model``), batch size and execution provider.
        address: the cluster (``auto``: the one ``ray start`` made on this machine,
            or ``RAY_ADDRESS``).
        limit: embed at most this many papers in this run.
        show_progress: the same progress bar as the local path.
        on_refresh: called every few minutes (the vector index is rebuilt).
        actors: ONNX sessions to run; default one per CPU of the cluster.
        window: papers per Ray dataset.

    Returns:
        How many papers were embedded.
    """
    model = settings.embed_model  # an embedder's name is its spec
    load_configured_embedder(settings)  # fails fast, here, on a bad spec or a missing model
    pending = count_papers_to_embed(store, model)
    if limit is not None:
        pending = min(pending, limit)
    if pending == 0:
        return 0
    ray = connect(address)
    pool = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
    chunk = embed_chunk_size(settings)
    window = -(-window // chunk) * chunk  # whole chunks: the same chunks as the local path
    # what the actors need to load the model; no secrets travel to the cluster
    shipped = dataclasses.replace(settings, secret_key="", smtp_user="", smtp_password="")
    done = 0
    last_key = 0
    last_refresh = time.monotonic()
    with progress_bar(f"embed ({model}, ray x{pool})", pending, enabled=show_progress) as bar:
        while done < pending:
            tasks = papers_to_embed(store, model, min(window, pending - done), last_key)
            if not tasks:
                break
            items: list[dict[str, Any]] = [
                {
                    "keys": [task.key for task in group],
                    "hashes": [task.content_hash for task in group],
                    "texts": [embedding_text(task.title, task.abstract) for task in group],
                }
                for group in (tasks[start : start + chunk] for start in range(0, len(tasks), chunk))
            ]
            # one block per chunk: each comes back (and is written) as soon as it is done
            dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
                EmbedActor,
                fn_constructor_kwargs={"spec": model, "settings": shipped},
                batch_size=1,
                batch_format="numpy",
                concurrency=pool,
                num_cpus=1,
            )
            for result in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                keys = [int(key) for key in result["key"]]
                save_embeddings(
                    store,
                    model,
                    keys,
                    [str(value) for value in result["content_hash"]],
                    np.asarray(result["vector"], dtype=np.float32),
                )
                done += len(keys)
                bar.update(len(keys))
                if on_refresh is not None and time.monotonic() - last_refresh > REFRESH_SECONDS:
                    on_refresh()
                    last_refresh = time.monotonic()
            last_key = tasks[-1].key
    return done
