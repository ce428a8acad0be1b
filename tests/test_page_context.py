"""What pages ask about papers, on SQLite and PostgreSQL: comment totals, saved papers and
"not for me" marks are read for the papers a page shows, together, and for any other
paper when asked for."""

from __future__ import annotations

import pytest

from paperfeed import collections as lists
from paperfeed import discussion, feedback
from paperfeed.models import Paper, StoredPaper
from paperfeed.store import Store
from paperfeed.store.accounts import insert_user
from paperfeed.web.page_context import CommentTotals, Dismissals, Saving
from sql_statements import statements_run

IDS = [f"2608.0000{number}" for number in range(1, 6)]


@pytest.fixture
def store(database_url: str) -> Store:
    store = Store(database_url)
    store.upsert_papers(
        [Paper(arxiv_id, f"Paper {arxiv_id}", "Abstract.", ["A"]) for arxiv_id in IDS]
    )
    # the source reported 3 comments on the first paper
    store.upsert_papers([Paper(IDS[0], f"Paper {IDS[0]}", "Abstract.", ["A"], num_comments=3)])
    return store


def _papers(store: Store) -> list[StoredPaper]:
    papers = [store.get_paper(arxiv_id) for arxiv_id in IDS]
    assert all(paper is not None for paper in papers)
    return [paper for paper in papers if paper is not None]


def test_the_shown_papers_are_counted_in_one_query_and_others_when_asked(store: Store) -> None:
    ada = insert_user(store, "ada@example.org", "ada", "not-a-real-hash")
    first, second, third, fourth, fifth = _papers(store)
    for paper, times in ((first, 2), (second, 1), (fifth, 4)):
        for number in range(times):
            discussion.post_comment(store, ada, paper.arxiv_id, f"comment {number}")
    deleted = discussion.post_comment(store, ada, third.arxiv_id, "gone")
    discussion.delete_comment(store, ada, deleted.id)

    totals = CommentTotals(store, [first, second, third, fourth])
    with statements_run(store, "count(", "comments") as queries:
        shown = [totals(paper) for paper in (first, second, third, fourth)]
    assert shown == [3 + 2, 1, 0, 0]
    # one query, for those papers only: counting every commented paper grows with the site
    assert len(queries) == 1 and " IN (" in queries[0]
    # a paper the page did not announce is still counted right, on its own
    with statements_run(store, "count(", "comments") as queries:
        assert totals(fifth) == 4
        assert totals(fifth) == 4 and totals(first) == 5
    assert len(queries) == 1

    nothing_shown = CommentTotals(store)
    assert [nothing_shown(paper) for paper in (fifth, first, fourth)] == [4, 5, 0]


def test_saved_and_dismissed_papers_are_read_for_the_shown_papers(store: Store) -> None:
    ada = insert_user(store, "ada@example.org", "ada", "not-a-real-hash")
    first, second, third, fourth, fifth = _papers(store)
    reading = lists.create_collection(store, ada, "Reading")
    later = lists.create_collection(store, ada, "Later")
    lists.add_papers(store, ada, reading.id, [first.key, fifth.key])
    lists.add_papers(store, ada, later.id, [first.key])
    for paper in (second, fifth):
        feedback.set_not_for_me(store, ada, paper.arxiv_id, marked=True)

    saving = Saving(store, ada, [first, second, third])
    dismissed = Dismissals(store, ada, [first, second, third])
    with statements_run(store, "collection_papers") as member_reads:
        assert [saving.saved(paper) for paper in (first, second, third)] == [True, False, False]
        assert saving.has(later, first) and not saving.has(later, second)
    with statements_run(store, "not_for_me") as mark_reads:
        assert [dismissed.has(paper) for paper in (first, second, third)] == [False, True, False]
    # one read each, for those papers only: the user's whole history grows
    assert len(member_reads) == 1 and " IN (" in member_reads[0]
    assert len(mark_reads) == 1 and " IN (" in mark_reads[0]
    # papers the page did not name are still answered right
    assert saving.saved(fifth) and saving.has(reading, fifth) and not saving.saved(fourth)
    assert dismissed.has(fifth) and not dismissed.has(fourth)
    assert [paper.arxiv_id for paper, _ in dismissed.papers] == [fifth.arxiv_id, second.arxiv_id]
