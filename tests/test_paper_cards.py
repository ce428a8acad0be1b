"""A paper's card as a browser reads it: every field shown as written (escaped once), every
link going where it says, and the signed-in controls acting on the right paper."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from html_tree import parsed
from paperfeed.config import Settings
from paperfeed.models import Paper, StoredPaper
from paperfeed.search.profiles import OrganizationNames
from paperfeed.store import Store
from paperfeed.store.collections import Collection
from paperfeed.web.paper_cards import PaperCards
from paperfeed.web.templating import make_templates

HOSTILE = Paper(
    arxiv_id="2401.00001",
    title='Kullback-Leibler <b>bounds</b> & "tight" ones',
    abstract="We bound the KL divergence & <script>alert(1)</script> more. " * 12,
    authors=["Ada Lovelace", "Émile Borel & <Co>", "C. Shannon", "D/E Knuth"],
    categories=["cs.LG", "stat.ML"],
    published="2024-01-02",
    github_repo="https://github.com/example/kl?tab=a&x=1",
    github_stars=42,
    project_page="javascript:alert(1)",
    ai_keywords=['KL "divergence"', "bounds & limits"],
    ai_summary="Tighter <KL> bounds.",
    organization="Lab & <Partners>",
)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = Store(settings.database_url)
    store.upsert_papers([HOSTILE])
    yield store
    store.close()


@pytest.fixture
def paper(store: Store) -> StoredPaper:
    stored = store.get_paper("2401.00001")
    assert stored is not None
    return stored


def cards_for(store: Store, **reader: object) -> PaperCards:
    environment = make_templates().env
    environment.filters["organization_name"] = OrganizationNames(store).display
    options: dict[str, object] = {
        "user": None,
        "csrf": 'token"&<',
        "path": "/search",
        "query_string": "q=kl+%26+more&page=2",
        "saving": None,
        "dismissed": None,
        "comment_total": lambda paper: 3,
    } | reader
    return PaperCards(environment, **options)  # type: ignore[arg-type]


def test_a_card_shows_each_field_as_written(store: Store, paper: StoredPaper) -> None:
    card = parsed(cards_for(store).card(paper, 12, False, why="title & <abstract>", rank=2))
    article = card.one("article", class_="card")
    assert article.attributes["data-id"] == "2401.00001"
    title = article.one("h3", class_="title")
    assert title.one("span", class_="rank").text == "2"
    assert title.one("a").text == HOSTILE.title
    assert title.one("a").attributes["href"] == "/papers/2401.00001"
    organization = article.one("a", class_="org")
    assert organization.text == "Lab & <Partners>"
    assert unquote(organization.attributes["href"]) == "/organizations/Lab & <Partners>"
    authors = article.one("span", class_="authors")
    assert authors.attributes["title"] == ", ".join(HOSTILE.authors)
    assert [a.text for a in authors.all("a")] == ["Ada Lovelace", "Émile Borel & <Co>"]
    assert [unquote(a.attributes["href"]) for a in authors.all("a")] == [
        "/authors/Ada Lovelace",
        "/authors/Émile Borel & <Co>",
    ]
    assert "and 2 more (4 authors)" in authors.text
    assert article.one("time").attributes["datetime"] == "2024-01-02"
    assert article.one("time").text == "Jan 2, 2024"
    assert article.one("a", class_="comments").text == "3 comments"
    code = article.one("a", class_="code")
    assert code.attributes["href"] == HOSTILE.github_repo
    assert code.text == "code ★42"
    assert "project page" not in article.text  # a javascript: link is not shown
    tags = article.one("p", class_="card-tags").all("a")
    assert [a.text for a in tags] == ["cs.LG", "stat.ML"]
    assert parse_qs(urlsplit(tags[0].attributes["href"]).query) == {
        "q": ["cat:cs.LG"],
        "sort": ["date"],
    }
    assert "primary" in tags[0].attributes["class"] and "primary" not in tags[1].attributes["class"]
    assert article.one("p", class_="tldr").text == "TL;DR Tighter <KL> bounds."
    keywords = article.one("p", class_="keywords").all("a")
    assert [a.text for a in keywords] == ['KL "divergence"', "bounds & limits"]
    assert [parse_qs(urlsplit(a.attributes["href"]).query)["q"] for a in keywords] == [
        ['"KL "divergence""'],
        ['"bounds & limits"'],
    ]
    abstract = article.one("p", class_="abstract").text
    assert abstract.startswith("We bound the KL divergence & <script>alert(1)</script> more.")
    assert abstract.endswith("…") and len(abstract) <= 320
    assert article.one("p", class_="why").text == "Why: title & <abstract>"
    assert not article.all("script")


def test_the_upvote_form_votes_for_this_paper_and_comes_back(
    store: Store, paper: StoredPaper
) -> None:
    cards = cards_for(store)
    form = parsed(cards.card(paper, 12, True)).one("form", class_="vote")
    assert form.attributes["action"] == "/papers/2401.00001/upvote"
    fields = {i.attributes["name"]: i.attributes["value"] for i in form.all("input")}
    assert fields == {"csrf_token": 'token"&<', "next": "/search?q=kl+%26+more&page=2"}
    button = form.one("button")
    assert button.attributes["aria-pressed"] == "true"
    assert "voted" in button.attributes["class"].split()
    assert button.one("span", class_="count").text == "12"
    unvoted = parsed(cards.card(paper, 0, False)).one("button", class_="upvote")
    assert unvoted.attributes["aria-pressed"] == "false"
    assert unvoted.attributes["title"] == "Upvote"


def test_a_snippet_is_shown_as_the_search_marked_it(store: Store, paper: StoredPaper) -> None:
    card = parsed(cards_for(store).card(paper, 0, False, snippet="… the <mark>KL</mark> &amp; …"))
    snippet = card.one("p", class_="snippet")
    assert snippet.one("mark").text == "KL"
    assert snippet.text == "… the KL & …"
    assert not card.all("p", class_="abstract")


def test_signed_out_the_card_offers_sign_in_to_save(store: Store, paper: StoredPaper) -> None:
    card = parsed(cards_for(store).card(paper, 0, False))
    link = card.one("a", class_="save-link")
    back = "/search?q=kl+%26+more&page=2"  # the page and its query: the search comes back
    assert parse_qs(urlsplit(link.attributes["href"]).query) == {"next": [back]}
    assert urlsplit(link.attributes["href"]).path == "/signin"
    assert not card.all("form", class_="not-for-me")
    assert not card.all("details")


class _Saving:
    def __init__(self, collections: list[Collection], members: set[tuple[int, int]]) -> None:
        self.collections = collections
        self.members = members

    def has(self, collection: Collection, paper: StoredPaper) -> bool:
        return (collection.id, paper.key) in self.members

    def saved(self, paper: StoredPaper) -> bool:
        return any(key == paper.key for _, key in self.members)


class _Dismissed:
    def __init__(self, keys: set[int]) -> None:
        self.keys = keys

    def has(self, paper: StoredPaper) -> bool:
        return paper.key in self.keys


def _collection(identifier: int, name: str, is_public: bool) -> Collection:
    return SimpleNamespace(id=identifier, name=name, is_public=is_public)  # type: ignore[return-value]


def test_signed_in_the_save_menu_and_not_for_me_act_on_this_paper(
    store: Store, paper: StoredPaper
) -> None:
    reading = _collection(7, "Reading <list> & co", True)
    private = _collection(9, 'Mine "x"', False)
    cards = cards_for(
        store,
        user=SimpleNamespace(name="ann"),
        saving=_Saving([reading, private], {(7, paper.key)}),
        dismissed=_Dismissed({paper.key}),
    )
    card = parsed(cards.card(paper, 1, False))
    menu = card.one("details", class_="save")
    assert menu.one("summary").text == "★ Saved"
    toggles = menu.all("form", class_="save-toggle")
    assert [form.attributes["action"] for form in toggles] == [
        "/collections/7/papers",
        "/collections/9/papers",
    ]
    fields = [
        {i.attributes["name"]: i.attributes["value"] for i in f.all("input")} for f in toggles
    ]
    assert fields[0] == {"csrf_token": 'token"&<', "arxiv_id": "2401.00001", "change": "remove"}
    assert fields[1]["change"] == "add"
    assert [form.one("button").text for form in toggles] == [
        "✓ Reading <list> & co",
        '+ Mine "x" (private)',
    ]
    new = menu.one("form", class_="save-new")
    assert new.attributes["action"] == "/collections"
    not_for_me = card.one("form", class_="not-for-me")
    assert not_for_me.attributes["action"] == "/papers/2401.00001/not-for-me"
    inputs = {i.attributes["name"]: i.attributes["value"] for i in not_for_me.all("input")}
    assert inputs["change"] == "remove" and inputs["next"] == "/search?q=kl+%26+more&page=2"
    assert not_for_me.one("button").text == "↺ Undo not for me"

    cards = cards_for(
        store,
        user=SimpleNamespace(name="ann"),
        saving=_Saving([reading], set()),
        dismissed=_Dismissed(set()),
    )
    card = parsed(cards.card(paper, 1, False))
    assert card.one("summary").text == "☆ Save"
    assert card.one("form", class_="not-for-me").one("button").text == "✕ Not for me"


def test_a_paper_with_little_shows_little(store: Store) -> None:
    store.upsert_papers(
        [Paper(arxiv_id="2401.00002", title="Plain", abstract="Short & sweet.", authors=[])]
    )
    bare = store.get_paper("2401.00002")
    assert bare is not None
    card = parsed(cards_for(store, comment_total=lambda paper: 0).card(bare, 0, False))
    article = card.one("article")
    assert article.one("p", class_="abstract").text == "Short & sweet."
    for absent in ("card-tags", "tldr", "keywords", "why"):
        assert not article.all("p", class_=absent), absent
    assert not article.all("a", class_="comments") and not article.all("time")
    assert not article.all("a", class_="org")
