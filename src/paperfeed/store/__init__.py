"""All database reads and writes: papers, embeddings, numbered migrations."""

from paperfeed.store.database import Store, StoreError, UpsertCounts

__all__ = ["Store", "StoreError", "UpsertCounts"]
