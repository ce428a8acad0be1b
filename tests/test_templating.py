"""The page templates' own urlencode filter and path quoting give exactly what Jinja's and
urllib's would, and the links a results page carries still work when followed."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from jinja2.filters import do_urlencode
from markupsafe import Markup

from paperfeed.web.templating import make_templates
from paperfeed.web.url_quoting import path_segment, query_value, quick_urlencode

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


# every ASCII character (each has its own entry in the translate tables) and others
CHARACTERS = [chr(code) for code in range(128)] + ["é", "–", "漢", "😀"]


@pytest.mark.parametrize("character", CHARACTERS, ids=ascii)
def test_each_character_is_quoted_as_urllib_and_jinja_quote_it(character: str) -> None:
    text = f"a{character}b {character}"
    assert path_segment(text) == quote(text, safe="")
    assert query_value(text) == do_urlencode({"q": text})[2:]
    assert quick_urlencode(text) == do_urlencode(text)


def test_templates_use_it_and_a_keyword_link_searches_for_the_keyword() -> None:
    environment = make_templates().env
    assert environment.filters["urlencode"] is quick_urlencode
    href = environment.from_string("/search?{{ {'q': '\"' ~ keyword ~ '\"'}|urlencode }}").render(
        keyword="KL divergence & friends"
    )
    assert parse_qs(urlsplit(href).query) == {"q": ['"KL divergence & friends"']}
