"""Hybrid search and similar papers over a small real-text corpus."""

from __future__ import annotations

import pytest

from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.models import Paper
from paperfeed.search import SearchEngine, SearchError, parse_query
from paperfeed.store import Store
from paperfeed.store.accounts import insert_user, insert_vote
from sql_statements import statements_run

PAPERS = [
    Paper(
        "2401.00001",
        title="Mixture Density Networks with a Kullback-Leibler Penalty",
        abstract="We bound the Kullback-Leibler divergence between Gaussian mixtures and use "
        "the bound as a training penalty.",
        authors=["Ada Lovelace"],
        categories=["cs.LG"],
        first_listed="2024-01-02",
        upvotes=5,
    ),
    Paper(
        "2401.00002",
        title="Classifier-Free Guidance for Diffusion Models",
        abstract="Diffusion models generate images; classifier-free guidance trades diversity "
        "for fidelity without a separate classifier.",
        authors=["Alan Turing", "Grace Hopper"],
        categories=["cs.CV"],
        first_listed="2024-02-10",
        upvotes=50,
    ),
    Paper(
        "2401.00003",
        title="Video Diffusion at Scale",
        abstract="We train video diffusion models with guidance on millions of clips.",
        authors=["Grace Hopper"],
        categories=["cs.CV"],
        first_listed="2025-03-01",
        upvotes=7,
    ),
    Paper(
        "2401.00004",
        title="Reinforcement Learning from Human Feedback for Dialogue",
        abstract="Reward models trained on human preferences steer a dialogue policy with "
        "proximal policy optimisation.",
        authors=["Claude Shannon"],
        categories=["cs.CL", "cs.LG"],
        first_listed="2025-06-15",
        upvotes=1,
    ),
    Paper(
        "2401.00005",
        title="Sparse Attention for Long Documents",
        abstract="Sparse attention patterns let transformers read documents of 100k tokens.",
        authors=["Alan Turing"],
        categories=["cs.CL"],
        first_listed="2025-07-01",
        upvotes=20,
    ),
]


@pytest.fixture
def engine(settings: Settings) -> SearchEngine:
    store = Store(settings.database_url)
    store.upsert_papers(PAPERS)
    update_index(store, settings, show_progress=False)
    return SearchEngine(store, settings)


def _ids(results: object) -> list[str]:
    return [hit.paper.arxiv_id for hit in results.hits]  # type: ignore[attr-defined]


def test_words_find_papers_and_explain_why(engine: SearchEngine) -> None:
    results = engine.search("diffusion guidance")
    assert set(_ids(results)[:2]) == {"2401.00002", "2401.00003"}
    hit = results.hits[0]
    assert hit.found_by in ("lexical", "both")
    assert {term.lower() for term in hit.matched_terms} >= {"diffusion", "guidance"}
    assert "<mark>" in hit.snippet


def test_phrase_exclusion_and_field(engine: SearchEngine) -> None:
    assert _ids(engine.search('"classifier-free guidance"')) == ["2401.00002"]
    assert "2401.00003" not in _ids(engine.search("diffusion -video"))
    assert _ids(engine.search("au:hopper video"))[0] == "2401.00003"
    assert set(_ids(engine.search("au:turing"))) == {"2401.00002", "2401.00005"}


def test_ti_requires_the_word_in_the_title_not_in_a_keyword(settings: Settings) -> None:
    # the keywords are indexed with the title (a keyword match scores like a title word),
    # but ti: promises the word is in the title: "ti:guidance" found a paper whose
    # title has no "guidance" because one of its keywords had
    store = Store(settings.database_url)
    tagged = Paper(
        "2401.00006",
        title="Fast Samplers for Score Models",
        abstract="Fewer network evaluations per sample with a learned step schedule.",
        authors=["Ada Lovelace"],
        ai_keywords=["classifier-free guidance", "step schedule"],
        first_listed="2025-08-01",
    )
    store.upsert_papers([*PAPERS, tagged])
    update_index(store, settings, show_progress=False)
    engine = SearchEngine(store, settings)
    assert _ids(engine.search("ti:guidance")) == ["2401.00002"]
    assert _ids(engine.search('ti:"classifier-free guidance"')) == ["2401.00002"]
    assert engine.search("ti:guidance").total == 1
    # the keyword still counts where no field is named
    assert "2401.00006" in _ids(engine.search("guidance"))


def test_category_and_date_filters(engine: SearchEngine) -> None:
    assert set(_ids(engine.search("models", categories=["cs.CV"]))) <= {"2401.00002", "2401.00003"}
    # one string is one category (it was read letter by letter: "category 'c' is not ...")
    assert _ids(engine.search("models", categories="cs.CV")) == _ids(
        engine.search("models", categories=["cs.CV"])
    )
    results = engine.search("cat:cs.CL since:2025-07")
    assert _ids(results) == ["2401.00005"]


def test_sort_by_date_and_upvotes_and_paging(engine: SearchEngine) -> None:
    by_date = _ids(engine.search("diffusion", sort="date"))
    assert by_date.index("2401.00003") < by_date.index("2401.00002")
    by_votes = _ids(engine.search("diffusion", sort="upvotes"))
    assert by_votes[0] == "2401.00002"
    first = engine.search("models", limit=1)
    second = engine.search("models", limit=1, offset=1)
    assert first.total == second.total >= 2
    assert _ids(first) != _ids(second)


def test_sort_by_upvotes_adds_the_votes_cast_here(engine: SearchEngine) -> None:
    """2401.00003 has 7 upvotes from its source against 2401.00002's 50: 44 votes cast on
    this site put it first; votes on a paper the search did not find change nothing."""
    video = engine.store.get_paper("2401.00003")
    dialogue = engine.store.get_paper("2401.00004")
    assert video is not None and dialogue is not None
    for number in range(44):
        user = insert_user(engine.store, f"u{number}@example.org", f"u{number}", "hash")
        insert_vote(engine.store, user.id, video.key)
        insert_vote(engine.store, user.id, dialogue.key)
    by_votes = _ids(engine.search("diffusion", sort="upvotes"))
    assert by_votes[:2] == ["2401.00003", "2401.00002"] and "2401.00004" not in by_votes


def test_an_empty_query_lists_nothing_unless_browsing(engine: SearchEngine) -> None:
    empty = engine.search("")
    assert empty.hits == [] and any("empty query" in note for note in empty.notes)
    browsed = engine.search("", browse=True)  # relevance has nothing to rank: newest first
    newest_first = ["2401.00005", "2401.00004", "2401.00003", "2401.00002", "2401.00001"]
    assert _ids(browsed) == newest_first and browsed.total == 5
    assert _ids(engine.search("", limit=2, offset=1, browse=True)) == newest_first[1:3]
    assert _ids(engine.search("", sort="upvotes", browse=True))[0] == "2401.00002"
    assert _ids(engine.search("", categories=["cs.CV"], browse=True)) == newest_first[2:4]
    assert _ids(engine.search("-diffusion", browse=True)) == [
        "2401.00005",
        "2401.00004",
        "2401.00001",
    ]
    assert engine.search("", browse=False).hits == []  # the browsing page is cached apart
    words = engine.search("diffusion", browse=True)  # words are still ranked by relevance
    assert _ids(words) == _ids(engine.search("diffusion"))


def test_arxiv_id_comes_first(engine: SearchEngine) -> None:
    results = engine.search("https://arxiv.org/abs/2401.00004v2")
    assert _ids(results) == ["2401.00004"]
    assert results.hits[0].found_by == "identifier"
    missing = engine.search("2412.99999")
    assert missing.hits == [] and "no paper 2412.99999" in missing.notes[0]


def test_bad_parameters_raise_named_errors(engine: SearchEngine) -> None:
    with pytest.raises(SearchError, match="'newest'"):
        engine.search("x", sort="newest")
    with pytest.raises(SearchError, match="limit 0"):
        engine.search("x", limit=0)
    with pytest.raises(SearchError, match="2499.00001"):
        engine.similar("2499.00001")


def test_malformed_query_still_answers_with_a_note(engine: SearchEngine) -> None:
    results = engine.search('"sparse attention')
    assert _ids(results)[0] == "2401.00005"
    assert any("unbalanced" in note for note in results.notes)


def test_similar_never_returns_the_paper_itself(engine: SearchEngine) -> None:
    hits = engine.similar("2401.00002", limit=3)
    ids = [hit.paper.arxiv_id for hit in hits]
    assert "2401.00002" not in ids and len(ids) == 3
    assert ids[0] == "2401.00003"
    pasted = engine.similar_to_text("reward models and human preferences for dialogue")
    assert pasted[0].paper.arxiv_id == "2401.00004"


def test_semantic_side_finds_synonyms_with_the_bundled_model(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The point of hybrid search: "KL divergence" finds a paper that says Kullback-Leibler."""
    monkeypatch.setenv("PAPERFEED_EMBED_MODEL", "minilm")
    settings = Settings.from_environment()
    store = Store(settings.database_url)
    store.upsert_papers(
        [
            Paper(
                "2402.00001",
                title="Bounding divergences between Gaussian mixtures",
                abstract="We derive bounds on the Kullback-Leibler information between two "
                "mixtures of Gaussians.",
            ),
            Paper(
                "2402.00002",
                title="Sparse attention for long documents",
                abstract="Attention patterns let transformers read long inputs.",
            ),
            Paper(
                "2402.00003",
                title="Robot grasping with tactile sensors",
                abstract="Tactile feedback improves grasp success on household objects.",
            ),
        ]
    )
    update_index(store, settings, show_progress=False)
    results = SearchEngine(store, settings).search("KL divergence")
    assert results.hits[0].paper.arxiv_id == "2402.00001"
    assert results.hits[0].found_by in ("semantic", "both")


def test_phrase_with_other_words_keeps_scores_aligned(engine: SearchEngine) -> None:
    """A phrase plus free words: the phrase filter drops candidates from both sides."""
    for fusion in ("weighted", "rrf"):
        # 2401.00003 has both words ("with guidance on") but not the phrase
        ranking = engine.rank(parse_query('"guidance for" video'), fusion=fusion)
        ids = [paper.arxiv_id for paper in engine.store.get_papers(ranking.keys).values()]
        assert ids == ["2401.00002"]


def test_pages_of_one_query_come_from_one_ranking(engine: SearchEngine) -> None:
    whole = engine.search("model", limit=6)
    pages = [engine.search("model", limit=2, offset=offset) for offset in (0, 2, 4)]
    assert [hit.paper.key for page in pages for hit in page.hits] == [
        hit.paper.key for hit in whole.hits
    ]
    assert {page.total for page in pages} == {whole.total}
    # a changed index empties the caches: the next answer is ranked afresh
    engine.reload()
    assert [h.paper.key for h in engine.search("model", limit=6).hits] == [
        h.paper.key for h in whole.hits
    ]


def test_a_page_of_hits_costs_one_database_query(engine: SearchEngine) -> None:
    """Page assembly fetches the page's papers in one statement, not one per hit."""
    with statements_run(engine.store) as statements:
        results = engine.search("diffusion models image generation", limit=10)
    assert len(results.hits) >= 2
    assert len(statements) == 1, statements


def test_papers_read_for_a_page_are_kept_until_the_index_reloads(engine: SearchEngine) -> None:
    """Distinct searches share papers: a paper read for one page is not read again for
    the next, until ``paperfeed index`` changes the index (the engine then reloads)."""
    with statements_run(engine.store) as statements:
        first = engine.search("diffusion guidance", limit=10)
        read = len(statements)
        again = engine.search("video diffusion", limit=10)  # another query, the same papers
        kept = len(statements) - read
    engine.store.upsert_papers([Paper("2401.00003", title="Video Diffusion at Scale, v2")])
    update_index(engine.store, engine.settings, show_progress=False)
    assert engine.reload_if_changed()
    renamed = engine.search("video diffusion", limit=10)
    assert read == 1 and kept == 0, statements
    assert {hit.paper.arxiv_id for hit in again.hits} <= {hit.paper.arxiv_id for hit in first.hits}
    titles = {hit.paper.arxiv_id: hit.paper.title for hit in renamed.hits}
    assert titles["2401.00003"] == "Video Diffusion at Scale, v2"


def test_query_embeddings_are_reused_across_queries(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERFEED_EMBED_MODEL", "hashing")
    settings = Settings.from_environment()
    store = Store(settings.database_url)
    store.upsert_papers(PAPERS)
    update_index(store, settings, show_progress=False)
    engine = SearchEngine(store, settings)
    engine.search("diffusion models")
    engine.search("diffusion models", sort="date")  # same ranking: no new embedding
    engine.search("diffusion models cat:cs.CV")  # another ranking, the same semantic text
    assert engine.queries.query_vectors is not None
    assert engine.queries.query_vectors.misses == 1
    assert engine.queries.query_vectors.hits >= 1
