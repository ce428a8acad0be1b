"""Email digests: who gets which papers, rendering, sending."""
