"""What pages ask about papers, on SQLite and PostgreSQL: the comment totals on cards are
counted for the papers a page shows, together, and any other paper when asked for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from paperfeed import discussion
from paperfeed.models import Paper, StoredPaper
from paperfeed.store import Store
from paperfeed.store.accounts import insert_user
from paperfeed.web.page_context import CommentTotals

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


@contextmanager
def _comment_count_queries(store: Store) -> Iterator[list[str]]:
    """The statements that count comments, while the block runs."""
    seen: list[str] = []

    def record(*arguments: Any) -> None:
        statement = str(arguments[2])
        if "count(" in statement.lower() and "comments" in statement:
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def test_the_shown_papers_are_counted_in_one_query_and_others_when_asked(store: Store) -> None:
    ada = insert_user(store, "ada@example.org", "ada", "not-a-real-hash")
    first, second, third, fourth, fifth = _papers(store)
    for paper, times in ((first, 2), (second, 1), (fifth, 4)):
        for number in range(times):
            discussion.post_comment(store, ada, paper.arxiv_id, f"comment {number}")
    deleted = discussion.post_comment(store, ada, third.arxiv_id, "gone")
    discussion.delete_comment(store, ada, deleted.id)

    totals = CommentTotals(store, [first, second, third, fourth])
    with _comment_count_queries(store) as queries:
        shown = [totals(paper) for paper in (first, second, third, fourth)]
    assert shown == [3 + 2, 1, 0, 0]
    # one query, for those papers only: counting every commented paper grows with the site
    assert len(queries) == 1 and " IN (" in queries[0]
    # a paper the page did not announce is still counted right, on its own
    with _comment_count_queries(store) as queries:
        assert totals(fifth) == 4
        assert totals(fifth) == 4 and totals(first) == 5
    assert len(queries) == 1

    nothing_shown = CommentTotals(store)
    assert [nothing_shown(paper) for paper in (fifth, first, fourth)] == [4, 5, 0]
