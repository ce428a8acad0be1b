"""The OpenAPI document and the server agree on the cases schemathesis found apart
(empty ``date=``/``week=``/``q=`` accepted where the document forbade them; ``name: null``
refused where it allowed it), over real HTTP."""

from __future__ import annotations

import re

import pytest

from paperfeed.accounts import create_api_token
from paperfeed.store.accounts import insert_user
from running_site import Site


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("/api/daily_papers", {"date": ""}, "date '' is empty"),
        ("/api/daily_papers", {"week": ""}, "week '' is empty"),
        ("/api/daily_papers", {"month": " "}, "month ' ' is empty"),
        ("/rss/daily", {"week": ""}, "week '' is empty"),
        ("/api/search", {"q": ""}, "parameter 'q' is empty"),
        ("/rss/search", {"q": ""}, "parameter 'q' is empty"),
        ("/api/search", {"q": "agent", "since": ""}, "parameter 'since' is empty"),
        # the same rule on every endpoint the document gives since/until (schemathesis
        # sent /rss/search?until=, which answered a feed of everything)
        ("/rss/search", {"q": "agent", "until": ""}, "parameter 'until' is empty"),
        ("/api/papers/search", {"q": "agent", "since": " "}, "parameter 'since' is empty"),
        ("/api/papers/search/trend", {"q": "agent", "until": ""}, "parameter 'until' is empty"),
        ("/api/papers/search/trend", {"q": "-agent"}, "has nothing to count"),
    ],
)
def test_empty_parameters_are_400s_naming_them(
    site: Site, path: str, params: dict[str, str], named: str
) -> None:
    with site.client() as client:
        response = client.get(path, params=params)
        document = client.get("/api/openapi.json").json()
    assert response.status_code == 400 and named in response.json()["detail"]
    # and the document forbids them: a pattern or a date format that "" does not meet
    operation = document["paths"][path]["get"]
    name = list(params)[-1]  # the parameter under test
    schema = next(p["schema"] for p in operation["parameters"] if p["name"] == name)
    text = str(schema)
    assert "pattern" in text or "'format': 'date'" in text
    pattern = re.search(r"'pattern': '((?:[^'\\]|\\.)*)'", text)
    if pattern:
        assert not re.search(pattern.group(1).replace("\\\\", "\\"), params[name])


def test_collection_fields_are_what_the_document_says(site: Site) -> None:
    user = insert_user(site.store, "ada@example.org", "Ada", "not-a-real-hash")
    token = create_api_token(site.store, user)
    with site.client(headers={"Authorization": f"Bearer {token}"}) as api:
        schemas = api.get("/api/openapi.json").json()["components"]["schemas"]
        created = api.post("/api/collections", json={"name": "Reading", "is_public": False})
        cid = created.json()["id"]
        unchanged = api.patch(f"/api/collections/{cid}", json={"name": None, "is_public": True})
        nameless = api.post("/api/collections", json={"name": None})
        crlf = api.patch(f"/api/collections/{cid}", json={"description": "one\rtwo"})
        both = api.get("/api/daily_papers", params={"date": "2026-08-21", "week": "2026-W34"})
    # null in a change leaves the field as it is: the document allows it, the server agrees
    assert "null" in str(schemas["CollectionChange"]["properties"]["name"])
    assert unchanged.status_code == 200 and unchanged.json()["name"] == "Reading"
    assert unchanged.json()["is_public"] is True
    # a new collection needs a name: the document says string, the server says why
    assert schemas["CollectionIn"]["properties"]["name"]["type"] == "string"
    assert nameless.status_code == 400 and "name must be text" in nameless.json()["detail"]
    assert crlf.status_code == 200 and crlf.json()["description"] == "one\ntwo"
    assert both.status_code == 400 and "give one of date, week or month" in both.text


def test_the_documented_date_bound_is_exactly_what_the_search_accepts(site: Site) -> None:
    """schemathesis sent until=5192-04-31: the document's pattern allowed any day 01-31,
    the server (rightly) refused a day April lacks. The pattern now follows the calendar,
    leap years included; checked here against the server's own rule, value by value."""
    from paperfeed.search.query import SearchError, parse_query

    with site.client() as client:
        document = client.get("/api/openapi.json").json()
    parameters = document["paths"]["/api/search"]["get"]["parameters"]
    until = next(parameter for parameter in parameters if parameter["name"] == "until")
    pattern = re.compile(until["schema"]["pattern"])
    years = ["0000", "0004", "0100", "0400", "1900", "2000", "2024", "2025", "2100", "5192"]
    for year in years:
        for month in range(14):
            for day in range(33):
                for value in (f"{year}-{month:02d}-{day:02d}", f"{year}-{month:02d}", year):
                    try:
                        parse_query("x").with_filters(until=value)
                        accepted = True
                    except SearchError:
                        accepted = False
                    assert (pattern.search(value) is not None) == accepted, value
