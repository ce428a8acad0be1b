"""paperfeed: a self-hosted daily research-paper feed with hybrid search."""

__version__ = "0.1.0"
