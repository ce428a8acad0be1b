"""One parsed query through the engine: immutable hits, validated filters, the relevance
floor, folding, and an index rebuilt when the tokenizer changes."""

from __future__ import annotations

import json
import re
from dataclasses import FrozenInstanceError

import pytest
from click.testing import CliRunner

from paperfeed.cli import main
from paperfeed.config import Settings
from paperfeed.index.builder import read_state, update_index
from paperfeed.index.tokenizer import TOKENIZER_VERSION
from paperfeed.models import Paper
from paperfeed.search import SearchEngine, SearchError, parse_query
from paperfeed.store import Store
from running_site import Site

NONSENSE = "qzxwv flurble snark"
PAPERS = [
    Paper(
        "2401.00002",
        title="Classifier-Free Guidance for Diffusion Models",
        abstract="Diffusion models generate images; classifier-free guidance trades diversity "
        "for fidelity without a separate classifier.",
        authors=["Łukasz Kaiser", "Grace Hopper"],
        categories=["cs.CV"],
        first_listed="2024-02-10",
    ),
    Paper(
        "2401.00003",
        title="Video Diffusion at Scale",
        abstract="We train video diffusion models with guidance on millions of clips.",
        authors=["Søren Kierkegaard"],
        categories=["cs.CV"],
        first_listed="2025-03-01",
    ),
    Paper(
        "2401.00004",
        title="Reinforcement Learning from Human Feedback for Dialogue",
        abstract="Reward models trained on human preferences steer a dialogue policy with "
        "proximal policy optimisation.",
        authors=["Claude Shannon"],
        categories=["cs.CL", "cs.LG"],
        first_listed="2025-06-15",
    ),
]


@pytest.fixture
def engine(settings: Settings) -> SearchEngine:
    store = Store(settings.database_url)
    store.upsert_papers(PAPERS)
    update_index(store, settings, show_progress=False)
    return SearchEngine(store, settings)


def _marked(snippet: str) -> set[str]:
    return {word.lower() for word in re.findall(r"<mark>([^<]+)</mark>", snippet)}


def test_explaining_for_one_query_never_changes_anothers_cached_hits(
    engine: SearchEngine,
) -> None:
    # the digest's way: hits without snippets, explained for the topic that found them
    first = engine.search("diffusion", snippets=False)
    explained = engine.explain(first.hits[0], "diffusion")
    assert "diffusion" in _marked(explained.snippet)
    for_guidance = engine.search("guidance", snippets=False)
    engine.explain(for_guidance.hits[0], "guidance")
    engine.explain(first.hits[0], "guidance")  # the same cached hit, another topic
    again = engine.search("diffusion", snippets=False)
    assert again.hits[0].snippet == ""  # the cached hit was never written to
    assert _marked(engine.explain(again.hits[0], "diffusion").snippet) == {"diffusion"}
    with pytest.raises(FrozenInstanceError):
        again.hits[0].snippet = "changed"  # type: ignore[misc]
    # and with snippets, the page for "diffusion" marks diffusion, whatever came between
    engine.search("diffusion")
    engine.search("guidance")
    assert "diffusion" in _marked(engine.search("diffusion").hits[0].snippet)
    assert "guidance" not in _marked(engine.search("diffusion").hits[0].snippet)


def test_search_diffusion_guidance_diffusion_over_http(site: Site) -> None:
    with site.client() as client:
        snippets = []
        for q in ("diffusion", "guidance", "diffusion"):
            response = client.get("/api/search", params={"q": q})
            assert response.status_code == 200
            top = response.json()["hits"][0]
            snippets.append((q, top["snippet"], top["matched_terms"]))
    for q, snippet, matched in snippets:
        assert q in _marked(snippet), (q, snippet)
        assert q in {term.lower() for term in matched}
    assert snippets[0] == snippets[2]


def test_typed_filters_are_validated_and_name_the_bad_value(engine: SearchEngine) -> None:
    for options, bad in (
        ({"since": "garbage"}, "'garbage'"),
        ({"until": "2025-13"}, "'2025-13'"),
        ({"categories": ["cs LG"]}, "'cs LG'"),
        ({"categories": ['cs.LG"']}, "'cs.LG\"'"),
    ):
        with pytest.raises(SearchError, match=re.escape(bad)):
            engine.search("diffusion", **options)  # type: ignore[arg-type]
    with pytest.raises(SearchError, match="after until"):
        engine.search("diffusion", since="2025-06", until="2025-01")
    # a typed category never breaks the user's phrase
    found = engine.search('"classifier-free guidance"', categories=["cs.CV"])
    assert [hit.paper.arxiv_id for hit in found.hits] == ["2401.00002"]
    assert engine.search("diffusion", since="2025").hits[0].paper.arxiv_id == "2401.00003"
    # an empty box of the search form (cat=, since=) is no filter, not an error
    unfiltered = [hit.paper.arxiv_id for hit in engine.search("diffusion").hits]
    blank = engine.search("diffusion", categories=[""], since="", until=" ")
    assert [hit.paper.arxiv_id for hit in blank.hits] == unfiltered


def test_bad_filters_over_http_are_400_naming_the_value(site: Site) -> None:
    with site.client() as client:
        for params, bad in (
            ({"q": "diffusion", "since": "garbage"}, "garbage"),
            # a day the calendar lacks was read as "2025-02-31" and kept the papers of 1-3 March
            ({"q": "diffusion", "until": "2025-02-30"}, "February 2025 has no day 30"),
            ({"q": "diffusion", "cat": "cs LG"}, "cs LG"),
            ({"q": "diffusion", "cat": 'cs.LG"'}, 'cs.LG"'),
        ):
            response = client.get("/api/papers/search", params=params)
            assert response.status_code == 400
            assert bad in response.json()["detail"]
        page = client.get("/search", params={"q": "diffusion", "since": "garbage"})
        assert page.status_code == 400 and "garbage" in page.text
        # one rule for the page, the API and the CLI: "cs LG" is not two categories
        split = client.get("/search", params={"q": "diffusion", "cat": "cs LG"})
        assert split.status_code == 400 and "category &#39;cs LG&#39;" in split.text
        several = client.get("/search", params={"q": "image", "cat": "cs.CV, cs.LG"})
        api = client.get("/api/search", params={"q": "image", "cat": "cs.CV cs.LG"}).json()
    assert several.status_code == 200 and f"{api['total']} result" in several.text
    cli = CliRunner().invoke(main, ["search", "agent", "--category", "cs LG"])
    assert cli.exit_code != 0 and "category 'cs LG' is not a category name" in cli.output
    both = CliRunner().invoke(main, ["search", "image", "--category", "cs.CV cs.LG", "--json"])
    assert json.loads(both.output)["total"] == api["total"] > 0


def test_the_cache_key_is_the_canonical_query(engine: SearchEngine) -> None:
    one = parse_query("diffusion  cat:cs.CV since:2024").with_filters(["CS.cv"])
    two = parse_query("diffusion since:2024-01-01").with_filters(["cs.CV"])
    assert one.canonical == two.canonical
    first = engine.search(one)
    second = engine.search(two)
    assert first.hits == second.hits and second.query == two.text


def test_nonsense_finds_no_close_match_anywhere(engine: SearchEngine, settings: Settings) -> None:
    found = engine.search(NONSENSE)
    assert not found.close_match and found.total == 0
    assert len(found.hits) <= 3
    assert any("no close match" in note for note in found.notes)
    runner = CliRunner()
    shown = runner.invoke(main, ["search", NONSENSE])
    assert shown.exit_code == 0, shown.output
    assert "no close match" in shown.output and "results;" not in shown.output
    as_json = json.loads(runner.invoke(main, ["search", NONSENSE, "--json"]).output)
    assert as_json["total"] == 0 and as_json["close_match"] is False
    # a real query is still a match, with a count that means something
    real = engine.search("diffusion guidance")
    assert real.close_match and real.total >= 2


def test_nonsense_over_the_site_page_api_and_rss(site: Site) -> None:
    with site.client() as client:
        page = client.get("/search", params={"q": NONSENSE})
        assert page.status_code == 200
        assert "No close match" in page.text
        assert not re.search(r"\d+ results? for", page.text)
        api = client.get("/api/search", params={"q": NONSENSE}).json()
        assert api["total"] == 0 and api["close_match"] is False and len(api["hits"]) <= 3
        # the original site's shape has no room for a note: no close match lists nothing
        assert client.get("/api/papers/search", params={"q": NONSENSE}).json() == []
        assert client.get("/api/papers/search", params={"q": "diffusion"}).json()
        feed = client.get("/rss/search", params={"q": NONSENSE})
        assert feed.status_code == 200 and "<item>" not in feed.text
        assert "<item>" in client.get("/rss/search", params={"q": "diffusion"}).text


def test_folding_is_one_function_for_indexing_and_querying(engine: SearchEngine) -> None:
    for query, expected in (
        ("au:Lukasz", "2401.00002"),
        ("au:łukasz", "2401.00002"),
        ("au:Soren", "2401.00003"),
        ("Kierkegaard", "2401.00003"),
    ):
        assert [hit.paper.arxiv_id for hit in engine.search(query).hits][:1] == [expected]


def test_an_index_of_an_older_tokenizer_is_rebuilt(settings: Settings) -> None:
    store = Store(settings.database_url)
    store.upsert_papers(PAPERS)
    # no index yet is not an old index: one note says so, and what to run, once
    notes = SearchEngine(store, settings).search("diffusion").notes
    assert "there is no search index yet: run paperfeed index" in notes
    assert not any("tokenizer" in note for note in notes)
    assert sum("paperfeed index" in note for note in notes) == 1
    update_index(store, settings, show_progress=False)
    # what an index from before the folding change looks like: version 1, no "lukasz"
    state_path = settings.index_dir / "state.json"
    state = json.loads(state_path.read_text())
    state_path.write_text(json.dumps(state | {"tokenizer_version": 1}))
    stale = SearchEngine(store, settings)
    assert any("older version of the tokenizer" in n for n in stale.search("diffusion").notes)
    report = update_index(store, settings, show_progress=False)
    assert report.lexical_added == len(PAPERS)  # every paper indexed again
    assert read_state(settings)["tokenizer_version"] == TOKENIZER_VERSION
    fresh = SearchEngine(store, settings)
    assert not any("tokenizer" in note for note in fresh.search("diffusion").notes)
    assert fresh.search("au:Lukasz").hits[0].paper.arxiv_id == "2401.00002"
    assert fresh.status()["lexical_documents"] == len(PAPERS)


def test_a_nonsense_topic_adds_nothing_to_a_digest(site: Site) -> None:
    with site.client() as client:
        nonsense = client.get("/digest/preview", params={"q": NONSENSE})
        real = client.get("/digest/preview", params={"q": "agents"})
    assert nonsense.status_code == 200 and real.status_code == 200
    assert "Matching “agents”" in real.text
    # a weak match is not news: no section for the topic, only the day's top papers
    assert f"Matching “{NONSENSE}”" not in nonsense.text
