"""A user's profile: what they upvoted, submitted, wrote and saved."""

from __future__ import annotations

from dataclasses import dataclass

from paperfeed.collections import collections_of
from paperfeed.discussion import user_comments
from paperfeed.models import StoredPaper
from paperfeed.store import Store
from paperfeed.store.accounts import User
from paperfeed.store.activity import submitted_keys, voted_keys_of_user
from paperfeed.store.collections import Collection
from paperfeed.store.comments import Comment

PROFILE_LIMIT = 50


@dataclass(frozen=True)
class Profile:
    """The newest ``PROFILE_LIMIT`` of each kind of activity, newest first."""

    upvoted: list[tuple[StoredPaper, float]]
    submitted: list[tuple[StoredPaper, float]]
    comments: list[tuple[Comment, StoredPaper]]
    collections: list[Collection]


def _papers(store: Store, rows: list[tuple[int, float]]) -> list[tuple[StoredPaper, float]]:
    papers = store.get_papers([key for key, _ in rows])
    return [(papers[key], moment) for key, moment in rows if key in papers]


def profile_of(store: Store, user: User, limit: int = PROFILE_LIMIT) -> Profile:
    """Everything ``/account`` shows about ``user``."""
    return Profile(
        upvoted=_papers(store, voted_keys_of_user(store, user.id, limit)),
        submitted=_papers(store, submitted_keys(store, user.id, limit)),
        comments=user_comments(store, user, limit),
        collections=collections_of(store, user),
    )
