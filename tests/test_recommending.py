""" "For you" on a real store (SQLite and PostgreSQL) and a real index: positives, window,
SVM and centroid, explanations, saved papers, the empty cases."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

from paperfeed.config import Settings
from paperfeed.index.builder import update_index
from paperfeed.models import Paper
from paperfeed.search import SearchEngine
from paperfeed.search.recommending import (
    WINDOW_DAYS,
    rank_window,
    recommend,
    window_of,
)
from paperfeed.store import Store
from paperfeed.store.accounts import insert_user, insert_vote
from paperfeed.store.collections import add_papers, insert_collection
from paperfeed.store.positives import SAVED, UPVOTED, user_positives

ROBOT_WORDS = "robot grasping manipulation gripper arm dexterous tactile object pick place"
SPEECH_WORDS = "speech recognition audio transcription acoustic spoken utterance phoneme"
OTHER_WORDS = "galaxy survey telescope redshift cluster cosmology stellar spectra quasar"


def _text(generator: random.Random, words: str) -> str:
    vocabulary = words.split()
    return " ".join(generator.choice(vocabulary) for _ in range(30))


def _papers() -> list[Paper]:
    """60 papers in three topics: 30 in August 2026 (the window), 30 in June 2026."""
    generator = random.Random(3)
    papers = []
    for number in range(60):
        topic = (ROBOT_WORDS, SPEECH_WORDS, OTHER_WORDS)[number % 3]
        day = f"2026-08-{1 + number % 28:02d}" if number < 30 else f"2026-06-{1 + number % 28:02d}"
        papers.append(
            Paper(
                arxiv_id=f"2608.{number + 10000}",
                title=f"Paper {number} on {topic.split()[0]}",
                abstract=_text(generator, topic),
                authors=[f"Author {number}"],
                daily_date=day,
                upvotes=number,
                sources=["daily-papers-flat"],
            )
        )
    return papers


def _robot(paper_number: int) -> bool:
    return paper_number % 3 == 0


@pytest.fixture
def corpus(database_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Store, SearchEngine]:
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    settings = Settings.from_environment()
    store = Store(database_url)
    store.upsert_papers(_papers())
    update_index(store, settings, show_progress=False)
    return store, SearchEngine(store, settings)


def _key(store: Store, number: int) -> int:
    paper = store.get_paper(f"2608.{number + 10000}")
    assert paper is not None
    return paper.key


def _number(arxiv_id: str) -> int:
    return int(arxiv_id.split(".")[1]) - 10000


def test_window_is_the_last_30_days_up_to_the_newest_date() -> None:
    dates = np.array([0, 20260601, 20260821, 20260722], np.int32)
    assert window_of(dates) == (20260723, 20260821)
    assert window_of(dates, 1) == (20260821, 20260821)
    assert window_of(np.zeros(3, np.int32)) is None
    with pytest.raises(ValueError, match="window of 0 days"):
        window_of(dates, 0)
    assert WINDOW_DAYS == 30


def test_svm_ranks_the_users_topic_first_and_explains_with_their_papers(
    corpus: tuple[Store, SearchEngine],
) -> None:
    store, engine = corpus
    user = insert_user(store, "ada@example.org", "Ada", "x")
    liked = [30, 33, 36, 39]  # robot papers of June, outside the window
    for number in liked:
        insert_vote(store, user.id, _key(store, number))
    result = recommend(engine, user.id, limit=10)
    assert result.method == "svm" and result.positives == 4
    assert (result.window_first, result.window_last) == ("2026-07-30", "2026-08-28")
    assert result.candidates == 30
    numbers = [_number(item.paper.arxiv_id) for item in result.items]
    assert len(numbers) == 10
    assert all(_robot(number) and number < 30 for number in numbers[:10])
    for item in result.items:
        assert _number(item.because.arxiv_id) in liked
        assert item.reason == UPVOTED
        assert -1.0 <= item.similarity <= 1.0
    scores = [item.score for item in result.items]
    assert scores == sorted(scores, reverse=True)


def test_centroid_with_few_positives_and_positives_never_recommended(
    corpus: tuple[Store, SearchEngine],
) -> None:
    store, engine = corpus
    user = insert_user(store, "bo@example.org", "Bo", "x")
    insert_vote(store, user.id, _key(store, 1))  # a speech paper inside the window
    result = recommend(engine, user.id, limit=5)
    assert result.method == "centroid" and result.positives == 1
    numbers = [_number(item.paper.arxiv_id) for item in result.items]
    assert 1 not in numbers  # already upvoted
    assert all(number % 3 == 1 for number in numbers)  # speech, like the positive
    assert result.candidates == 29
    assert {item.because.arxiv_id for item in result.items} == {"2608.10001"}


def test_two_positives_are_enough_for_the_svm(corpus: tuple[Store, SearchEngine]) -> None:
    store, engine = corpus
    user = insert_user(store, "fa@example.org", "Fa", "x")
    for number in (32, 35):  # two astronomy papers of June
        insert_vote(store, user.id, _key(store, number))
    result = recommend(engine, user.id, limit=5)
    assert result.method == "svm" and result.positives == 2
    assert all(_number(item.paper.arxiv_id) % 3 == 2 for item in result.items)


def test_without_positives_or_vectors_the_result_says_why(
    corpus: tuple[Store, SearchEngine], database_url: str
) -> None:
    store, engine = corpus
    user = insert_user(store, "cy@example.org", "Cy", "x")
    empty = recommend(engine, user.id)
    assert (empty.items, empty.method) == ((), "none")
    assert empty.notes == ("no upvotes or saved papers yet",)
    insert_vote(store, user.id, _key(store, 2))
    engine.vectors = None  # an index whose embedding stage has not run yet
    unembedded = recommend(engine, user.id)
    assert unembedded.method == "none"
    assert "run paperfeed index" in unembedded.notes[0]
    with pytest.raises(ValueError, match="limit 0"):
        recommend(engine, user.id, limit=0)


def _insert_collection(store: Store, user_id: int, name: str, numbers: list[int]) -> int:
    collection_id = insert_collection(store, user_id, name, "", False, time.time())
    add_papers(store, collection_id, [_key(store, n) for n in numbers], time.time())
    return collection_id


def test_saved_papers_count_as_positives(
    corpus: tuple[Store, SearchEngine],
) -> None:
    store, engine = corpus
    user = insert_user(store, "di@example.org", "Di", "x")
    other = insert_user(store, "ed@example.org", "Ed", "x")
    insert_vote(store, user.id, _key(store, 30))
    assert user_positives(store, user.id)[0].reason == UPVOTED
    robots = _insert_collection(store, user.id, "robots", [30, 33, 36])
    _insert_collection(store, other.id, "someone else's", [31])
    assert robots > 0
    positives = user_positives(store, user.id)
    assert sorted(p.paper_key for p in positives) == sorted(_key(store, n) for n in (30, 33, 36))
    assert {p.reason for p in positives} == {SAVED}  # saved and upvoted: counted as saved
    result = recommend(engine, user.id, limit=5)
    assert result.method == "svm" and result.positives == 3
    assert all(item.reason == SAVED for item in result.items)
    assert all(_robot(_number(item.paper.arxiv_id)) for item in result.items)


def test_rank_window_refuses_unknown_methods_and_positives_without_vectors(
    corpus: tuple[Store, SearchEngine],
) -> None:
    _, engine = corpus
    assert engine.vectors is not None
    with pytest.raises(ValueError, match="unknown method 'knn'"):
        rank_window(engine.vectors, engine.dates, [1], (20260801, 20260831), "knn")
    with pytest.raises(ValueError, match="none of the positives has a vector"):
        rank_window(engine.vectors, engine.dates, [99999], (20260801, 20260831))
    nothing = rank_window(engine.vectors, engine.dates, [1], (20300101, 20300131))
    assert nothing.candidates == 0 and len(nothing.keys) == 0
