"""A feed's papers in the order of the user's For you model (``/new`` when signed in).

The same model as For you and the digest (``search.recommending.recommend``, here over
the feed's dates): the papers it ranks come first, best first, each with the positive it
is closest to; the rest (papers outside its window, marked "not for me", or past its
limit) follow in the feed's own order (upvotes, then arXiv's).
"""

from __future__ import annotations

from dataclasses import dataclass

from paperfeed.search.engine import SearchEngine
from paperfeed.search.feeds import FeedItem
from paperfeed.search.recommending import Recommendation, recommend

RANKED_LIMIT = 200  # recommend()'s most; a day's papers past it keep the feed's order


@dataclass(frozen=True)
class PersonalOrder:
    """The feed reordered for one user."""

    items: list[FeedItem]
    because: dict[int, Recommendation]  # by paper key, for the papers the model ranked
    method: str


def order_for_user(
    engine: SearchEngine, user_id: int, items: list[FeedItem]
) -> PersonalOrder | None:
    """``items`` ranked by the user's model; None when the user has nothing to learn from."""
    dates = sorted(item.paper.date for item in items if item.paper.date)
    if not dates:
        return None
    found = recommend(engine, user_id, limit=RANKED_LIMIT, between=(dates[0], dates[-1]))
    if not found.items:
        return None
    rank = {item.paper.key: position for position, item in enumerate(found.items)}
    ordered = sorted(
        enumerate(items),
        key=lambda pair: (
            (0, rank[pair[1].paper.key]) if pair[1].paper.key in rank else (1, pair[0])
        ),
    )
    return PersonalOrder(
        items=[item for _, item in ordered],
        because={item.paper.key: item for item in found.items},
        method=found.method,
    )
