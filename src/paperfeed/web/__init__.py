"""The web product: HTML pages, the JSON API and RSS feeds over the library."""

from paperfeed.web.app import create_app

__all__ = ["create_app"]
