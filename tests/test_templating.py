"""The page templates' own urlencode filter gives exactly what Jinja's would, and the
links a results page carries still work when followed."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from jinja2.filters import do_urlencode
from markupsafe import Markup

from paperfeed.web.templating import make_templates, quick_urlencode

VALUES = [
    "cat:cs.CL",
    "a b/c?d=é&e",
    '"graph neural networks"',
    Markup("x&amp;y"),
    42,
    {"q": '"Kullback–Leibler divergence"', "sort": "date"},
    {"next": "/search?q=kl divergence&page=2"},
    [("q", "cat:cs.LG"), ("sort", "upvotes")],
    {},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_same_quoting_as_jinjas_filter(value: object) -> None:
    assert quick_urlencode(value) == do_urlencode(value)  # type: ignore[arg-type]
    assert quick_urlencode(value) == do_urlencode(value)  # type: ignore[arg-type]  # cached


def test_templates_use_it_and_a_keyword_link_searches_for_the_keyword() -> None:
    environment = make_templates().env
    assert environment.filters["urlencode"] is quick_urlencode
    href = environment.from_string("/search?{{ {'q': '\"' ~ keyword ~ '\"'}|urlencode }}").render(
        keyword="KL divergence & friends"
    )
    assert parse_qs(urlsplit(href).query) == {"q": ['"KL divergence & friends"']}
