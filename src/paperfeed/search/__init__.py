"""Query parsing, hybrid retrieval and fusion, snippets, similar papers."""

from paperfeed.search.engine import SORTS, SearchEngine, SearchError
from paperfeed.search.query import ParsedQuery, parse_query

__all__ = ["SORTS", "ParsedQuery", "SearchEngine", "SearchError", "parse_query"]
