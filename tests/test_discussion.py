"""Discussion as a library, on SQLite and PostgreSQL: threads, replies, edits, deletes,
rate limits, counts and the link segmentation the pages escape."""

from __future__ import annotations

import pytest

from paperfeed import discussion
from paperfeed.accounts import RateLimitedError
from paperfeed.discussion import (
    CommentNotFoundError,
    DiscussionError,
    NotYourCommentError,
    text_segments,
)
from paperfeed.models import Paper
from paperfeed.store import Store
from paperfeed.store.accounts import User, insert_user
from paperfeed.store.comments import paper_comments


@pytest.fixture
def store(database_url: str) -> Store:
    store = Store(database_url)
    store.upsert_papers(
        [
            Paper("2608.00001", "A paper", "Abstract.", ["A"], num_comments=2),
            Paper("2608.00002", "Another paper", "Abstract.", ["B"]),
        ]
    )
    return store


def _user(store: Store, name: str) -> User:
    return insert_user(store, f"{name}@example.org", name, "not-a-real-hash")


def test_threads_newest_first_replies_oldest_first(store: Store) -> None:
    ada, bob = _user(store, "ada"), _user(store, "bob")
    first = discussion.post_comment(store, ada, "2608.00001", "First thread")
    second = discussion.post_comment(store, bob, "arXiv:2608.00001v2", "  Second thread \r\n")
    reply = discussion.post_comment(store, bob, "2608.00001", "A reply", parent_id=first.id)
    # a reply to a reply joins the thread: one level of replies
    nested = discussion.post_comment(store, ada, "2608.00001", "Reply again", parent_id=reply.id)
    assert (reply.parent_id, nested.parent_id) == (first.id, first.id)
    assert second.text == "Second thread" and second.author == "bob"
    paper, threads = discussion.thread_of(store, "2608.00001")
    assert [thread.comment.id for thread in threads] == [second.id, first.id]
    assert [c.id for c in threads[1].replies] == [reply.id, nested.id]
    assert threads[0].replies == ()
    # the source's 2 comments plus our 4
    assert discussion.comment_totals(store, [paper])[paper.key] == 6
    other = store.get_paper("2608.00002")
    assert other is not None
    assert discussion.comment_totals(store, [other])[other.key] == 0


def test_edit_and_delete_only_ones_own(store: Store) -> None:
    ada, bob = _user(store, "ada"), _user(store, "bob")
    thread = discussion.post_comment(store, ada, "2608.00001", "Typo hree")
    reply = discussion.post_comment(store, bob, "2608.00001", "Bob's reply", thread.id)
    with pytest.raises(NotYourCommentError, match=f"comment {thread.id}"):
        discussion.edit_comment(store, bob, thread.id, "Hijacked")
    with pytest.raises(NotYourCommentError):
        discussion.delete_comment(store, bob, thread.id)
    edited = discussion.edit_comment(store, ada, thread.id, "Typo here")
    assert edited.text == "Typo here" and edited.edited_at is not None
    discussion.delete_comment(store, ada, thread.id)
    paper, threads = discussion.thread_of(store, "2608.00001")
    # the deleted thread stays, blank, because it has a reply
    assert len(threads) == 1 and threads[0].comment.deleted and threads[0].comment.text == ""
    assert [c.text for c in threads[0].replies] == ["Bob's reply"]
    assert discussion.comment_totals(store, [paper])[paper.key] == 2 + 1
    with pytest.raises(DiscussionError, match="deleted"):
        discussion.post_comment(store, bob, "2608.00001", "Reply to deleted", thread.id)
    with pytest.raises(CommentNotFoundError):
        discussion.edit_comment(store, ada, thread.id, "Back from the dead")
    discussion.delete_comment(store, bob, reply.id)
    assert discussion.thread_of(store, "2608.00001")[1] == []
    # ids are never reused: the next comment gets a new one
    fresh = discussion.post_comment(store, ada, "2608.00001", "New")
    assert fresh.id > reply.id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("x" * 1_000_000, "1,000,000 characters long"),
        ("bell \x07", "U\\+0007"),
        (None, "must be a string"),
        (["list"], "must be a string"),
    ],
)
def test_bad_text_is_refused_and_nothing_is_stored(
    store: Store, text: object, message: str
) -> None:
    ada = _user(store, "ada")
    with pytest.raises(DiscussionError, match=message):
        discussion.post_comment(store, ada, "2608.00001", text)
    paper = store.get_paper("2608.00001")
    assert paper is not None and paper_comments(store, paper.key) == []


def test_unknown_paper_and_parent(store: Store) -> None:
    ada = _user(store, "ada")
    with pytest.raises(CommentNotFoundError, match="no paper 2609.99999"):
        discussion.post_comment(store, ada, "2609.99999", "Hello")
    with pytest.raises(DiscussionError, match="not an arXiv id"):
        discussion.post_comment(store, ada, "not-an-id", "Hello")
    other = discussion.post_comment(store, ada, "2608.00002", "On another paper")
    with pytest.raises(CommentNotFoundError, match=f"no comment {other.id} on paper"):
        discussion.post_comment(store, ada, "2608.00001", "Wrong thread", other.id)
    with pytest.raises(CommentNotFoundError):
        discussion.post_comment(store, ada, "2608.00001", "No such parent", 999_999)


def test_rate_limit_per_user(store: Store) -> None:
    ada, bob = _user(store, "ada"), _user(store, "bob")
    limit, _ = discussion.COMMENT_RATE_LIMIT
    for number in range(limit):
        discussion.post_comment(store, ada, "2608.00001", f"comment {number}")
    with pytest.raises(RateLimitedError) as caught:
        discussion.post_comment(store, ada, "2608.00001", "one too many")
    assert caught.value.retry_after > 0
    # another user is not limited by ada's comments
    discussion.post_comment(store, bob, "2608.00001", "bob is fine")
    paper = store.get_paper("2608.00001")
    assert paper is not None
    assert len([c for c in paper_comments(store, paper.key) if c.user_id == ada.id]) == limit


def test_user_comments_for_the_profile(store: Store) -> None:
    ada = _user(store, "ada")
    one = discussion.post_comment(store, ada, "2608.00001", "one")
    two = discussion.post_comment(store, ada, "2608.00002", "two")
    discussion.delete_comment(store, ada, one.id)
    listed = discussion.user_comments(store, ada)
    assert [(c.id, p.arxiv_id) for c, p in listed] == [(two.id, "2608.00002")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no links", [("no links", None)]),
        (
            "see https://example.org/a?b=1&c=2.",
            [
                ("see ", None),
                ("https://example.org/a?b=1&c=2", "https://example.org/a?b=1&c=2"),
                (".", None),
            ],
        ),
        (
            "(http://x.org/wiki/A_(b)) end",
            [("(", None), ("http://x.org/wiki/A_(b)", "http://x.org/wiki/A_(b)"), (") end", None)],
        ),
        # only http and https become links; markup stays text (the page escapes it)
        (
            'javascript:alert(1) <a href="https://e.org">x</a>',
            [
                ('javascript:alert(1) <a href="', None),
                ("https://e.org", "https://e.org"),
                ('">x</a>', None),
            ],
        ),
        ("ftp://files.org/x", [("ftp://files.org/x", None)]),
        ("https:// alone", [("https:// alone", None)]),
    ],
)
def test_text_segments_find_http_links_only(
    text: str, expected: list[tuple[str, str | None]]
) -> None:
    segments = text_segments(text)
    assert segments == expected
    assert "".join(piece for piece, _ in segments) == text


def _withdraw(store: Store, arxiv_id: str) -> None:
    """What a harvest that sees arXiv's deleted record does to the stored paper."""
    from paperfeed.store import schema

    with store.engine.begin() as connection:
        connection.execute(
            schema.papers.update()
            .where(schema.papers.c.arxiv_id == arxiv_id)
            .values(withdrawn_on="2026-09-01")
        )


def test_a_withdrawn_papers_discussion_is_kept_but_closed(store: Store) -> None:
    ada = _user(store, "ada")
    kept = discussion.post_comment(store, ada, "2608.00001", "Before the withdrawal")
    _withdraw(store, "2608.00001")
    with pytest.raises(discussion.PaperWithdrawnError, match="withdrawn from arXiv"):
        discussion.post_comment(store, ada, "2608.00001", "After")
    with pytest.raises(discussion.PaperWithdrawnError):
        discussion.post_comment(store, ada, "2608.00001", "A reply", kept.id)
    _, threads = discussion.thread_of(store, "2608.00001")
    assert [thread.comment.text for thread in threads] == ["Before the withdrawal"]
    # one's own words stay editable and deletable
    assert discussion.edit_comment(store, ada, kept.id, "Edited").text == "Edited"
    discussion.delete_comment(store, ada, kept.id)
