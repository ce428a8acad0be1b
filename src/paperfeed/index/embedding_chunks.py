"""How many papers one embedding call takes: the local builder and the Ray backfill send
the same chunks, so an int8 model sees the same batches either way. Both import it from
here (the builder dispatches to the Ray backfill, which must not import the builder)."""

from __future__ import annotations

from paperfeed.config import Settings

EMBED_CHUNK_BATCHES = 16


def embed_chunk_size(settings: Settings) -> int:
    """Papers embedded in one ``embed()`` call and committed together (the Ray backfill
    sends the same chunks, so an int8 model sees the same batches either way)."""
    return max(settings.embed_batch_size * EMBED_CHUNK_BATCHES, 64)
