"""An account's own data: the download its owner can take, and deletion by its owner.

Deletion rule (the README's "Accounts" section says the same): comments are blanked
and show "[deleted]" where replies need their thread (as deleting one comment does);
votes are removed, so each paper's count drops by one; collections, the account's own
digest subscriptions (made or confirmed while signed in to it, with their topics and
unsent mail), sessions, API tokens and reset links are deleted; papers submitted to a
daily list stay on it. The user row
stays, emptied (no address, no name, no password), so the blanked comments keep an
author row and the address is free for a new sign-up.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from paperfeed.accounts import AccountError, User, sign_in
from paperfeed.store import Store
from paperfeed.store.account_data import erase_account, read_account_data
from paperfeed.store.administration import count_active_admins

EXPORT_FORMAT = "paperfeed-account-export"
EXPORT_VERSION = 1


def export_account(store: Store, user: User, now: float | None = None) -> dict[str, Any]:
    """The account's data as JSON-ready values: account fields (never the password
    hash), votes, comments, collections with their papers, submissions, subscriptions.
    Times are seconds since the epoch (UTC)."""
    moment = time.time() if now is None else now
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": datetime.fromtimestamp(moment, UTC).isoformat(),
        **read_account_data(store, user.id),
    }


def delete_account(store: Store, user: User, password: str, client: str) -> None:
    """Delete ``user``'s account after checking its password (throttled like a sign-in,
    so a stolen session cannot be used to guess it).

    Raises:
        AccountError: the password is wrong, or the account is the site's last admin
            (nothing is deleted).
        RateLimitedError: too many wrong passwords from this client.
    """
    if user.is_admin and count_active_admins(store) <= 1:
        raise AccountError(
            f"{user.email} is the last admin of this site: make another user an admin "
            "first (paperfeed users promote EMAIL); nothing was deleted"
        )
    checked = sign_in(store, user.email, password, client)
    if checked is None or checked.id != user.id:
        raise AccountError("the password is wrong: nothing was deleted")
    erase_account(store, user.id, user.email, time.time())
