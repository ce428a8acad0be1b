"""Lexical index, embedder and vector index: built, updated, saved and loaded as plain files."""
