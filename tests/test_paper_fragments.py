"""The parts of a card that read the paper alone: rendered once, kept while the paper's
fields are the same, and the same HTML the macros make."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from paperfeed.config import Settings
from paperfeed.models import Paper, StoredPaper
from paperfeed.store import Store
from paperfeed.web.paper_fragments import FIELDS, TEMPLATE, PaperFragments
from paperfeed.web.people import path_segment
from paperfeed.web.templating import make_templates


@pytest.fixture
def paper(settings: Settings) -> Iterator[StoredPaper]:
    store = Store(settings.database_url)
    store.upsert_papers(
        [
            Paper(
                arxiv_id="2401.00001",
                title="Kullback-Leibler <b>bounds</b>",
                abstract="We bound the KL divergence.",
                authors=["Ada Lovelace", "Émile Borel", "C. Shannon", "D. Knuth"],
                categories=["cs.LG", "stat.ML"],
                published="2024-01-02",
                github_repo="https://github.com/example/kl",
                github_stars=42,
                ai_keywords=["KL divergence", "bounds & limits"],
                ai_summary="Tighter KL bounds.",
            )
        ]
    )
    stored = store.get_paper("2401.00001")
    assert stored is not None
    yield stored
    store.close()


@pytest.fixture
def fragments() -> PaperFragments:
    environment = make_templates().env
    environment.filters["path_segment"] = path_segment  # people.install adds it to a site
    fragment = environment.globals["paper_fragment"]
    assert isinstance(fragment, PaperFragments)
    return fragment


def macro_output(fragments: PaperFragments, name: str, paper: StoredPaper) -> str:
    return str(getattr(fragments.environment.get_template(TEMPLATE).module, name)(paper))


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_a_fragment_is_its_macros_html_made_once(
    fragments: PaperFragments, paper: StoredPaper, name: str
) -> None:
    first = fragments(name, paper)
    assert str(first) == macro_output(fragments, name, paper)
    assert fragments(name, dataclasses.replace(paper)) is first  # a fresh read of the paper
    assert fragments.made == 1


def test_what_the_card_shows(fragments: PaperFragments, paper: StoredPaper) -> None:
    authors = fragments("authors_and_date", paper)
    assert '<a href="/authors/Ada%20Lovelace">Ada Lovelace</a>' in authors
    assert "and 2 more (4 authors)" in authors
    assert "Jan 2, 2024" in authors
    assert "★42" in fragments("links", paper)
    assert "cat%3Acs.LG" in fragments("tags", paper)
    triage = fragments("triage", paper)
    assert "bounds &amp; limits</a>" in triage  # escaped once, as the macro does
    assert "Tighter KL bounds." in triage


def test_a_changed_paper_is_rendered_again(fragments: PaperFragments, paper: StoredPaper) -> None:
    before = fragments("authors_and_date", paper)
    renamed = dataclasses.replace(paper, authors=["Ada King"])
    after = fragments("authors_and_date", renamed)
    assert "Ada King" in after and "Lovelace" not in after
    assert fragments("links", dataclasses.replace(paper, github_stars=43)) != fragments(
        "links", paper
    )
    assert "Ada King" not in before
    assert fragments.made == 4
    assert len(fragments) == 2  # one entry per paper and fragment: the old one replaced


def test_kept_fragments_stay_within_their_budget(paper: StoredPaper) -> None:
    environment = make_templates().env
    environment.filters["path_segment"] = path_segment
    # (a ResultCache keeps nothing over a quarter of its budget: a fragment is ~1.5 KB)
    fragments = PaperFragments(environment, budget_bytes=16_000)
    for key in range(1, 100):
        fragments("authors_and_date", dataclasses.replace(paper, key=key))
        assert fragments.total_bytes <= 16_000
    assert 0 < len(fragments) < 99
    # the least recently used went first: the newest is still kept
    fragments.made = 0
    fragments("authors_and_date", dataclasses.replace(paper, key=99))
    assert fragments.made == 0
