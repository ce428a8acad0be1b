"""Administration: roles, the sign-up policy, invites, disabled accounts and the audit log.

The web's ``/admin`` pages and the ``paperfeed users`` command both call these
functions, so a rule (the last admin cannot be demoted, disabling ends every session
and token at once) holds whichever door an admin uses. Every change is written to the
audit log: who did it (an admin's address, or the command line), what, to whom, when.

The first admin is made on the command line (``paperfeed users create --admin``): a
sign-up never becomes admin by itself, since on a fresh public install the first
visitor to reach ``/signup`` (a scanner, say) would otherwise own the site. Shell
access to the server is the proof of being its administrator.
"""

from __future__ import annotations

import getpass
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from paperfeed import accounts
from paperfeed.accounts import AccountError, User
from paperfeed.config import SIGNUP_POLICIES, Settings
from paperfeed.ingest import quoted
from paperfeed.store import Store
from paperfeed.store import accounts as account_rows
from paperfeed.store import administration as admin_rows
from paperfeed.store import moderation as moderation_rows
from paperfeed.store.administration import AuditEntry, Invite, UserSummary
from paperfeed.store.database import is_row_id

__all__ = [
    "SIGNUP_POLICIES",
    "Actor",
    "AdminError",
    "AuditEntry",
    "Invite",
    "InviteError",
    "NotAdminError",
    "SignUpClosedError",
    "UnknownUserError",
    "UserSummary",
]

DEFAULT_INVITE_DAYS = Settings.invite_days
ROLES = ("user", "admin")


class AdminError(ValueError):
    """An admin action that cannot be done; the message says why, naming the value."""


class NotAdminError(PermissionError):
    """The user asking is not an admin."""


class UnknownUserError(LookupError):
    """No user with this address or id."""


class UnknownInviteError(LookupError):
    """No invite with this id."""


class InviteError(ValueError):
    """An invite link that cannot be used: unknown, expired, used, revoked or for
    another address."""


class SignUpClosedError(PermissionError):
    """Sign-up is closed on this site (``PAPERFEED_SIGNUP=closed``)."""


@dataclass(frozen=True)
class Actor:
    """Who does an admin action: an admin (``user_id`` set) or the command line."""

    user_id: int | None
    name: str

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.email)

    @classmethod
    def command_line(cls) -> Actor:
        try:
            login = getpass.getuser()
        except (KeyError, OSError):
            login = "unknown"
        return cls(None, f"command line ({login})")


def require_admin(user: User | None) -> User:
    """The user, if an (enabled) admin.

    Raises:
        NotAdminError: signed-in users who are not admins.
    """
    if user is None or not user.is_admin:
        raise NotAdminError("this page is for admins only")
    return user


def record(store: Store, actor: Actor, action: str, target: str, detail: str = "") -> None:
    """Write one admin action to the audit log."""
    admin_rows.insert_audit(store, time.time(), actor.user_id, actor.name, action, target, detail)


def audit_log(store: Store, limit: int = 200) -> list[AuditEntry]:
    """The newest audit entries first."""
    return admin_rows.list_audit(store, limit)[1]


def audit_page(store: Store, offset: int, limit: int) -> tuple[int, list[AuditEntry]]:
    """How many audit entries there are, and ``limit`` of them from ``offset``, newest
    first (the log is never pruned: an admin pages back through all of it)."""
    return admin_rows.list_audit(store, limit, offset)


# -- users ----------------------------------------------------------------------------


def find_user(store: Store, reference: str | int) -> User:
    """The user with this address or numeric id.

    Raises:
        UnknownUserError: naming the reference.
    """
    text = str(reference).strip()
    user = None
    if text.isascii() and text.isdigit():  # str.isdigit also takes '²', which int() refuses
        # a number past any row id names no user (the driver would raise on it)
        user = account_rows.find_user(store, int(text)) if is_row_id(int(text)) else None
    elif "@" in text:
        try:  # stored addresses are canonical (paperfeed.mail_addresses)
            address = accounts.normalize_email(text)
        except accounts.AccountError:
            address = text.lower()
        user = account_rows.find_user_by_email(store, address)
    if user is not None and "@" not in user.email:
        user = None  # its owner deleted it: only its blanked comments' author row is left
    if user is None:
        raise UnknownUserError(f"no user {quoted(text)} (give an email address or a user id)")
    return user


def list_users(store: Store) -> list[UserSummary]:
    """Every user, oldest first."""
    return admin_rows.list_users(store)[1]


def users_page(
    store: Store, matching: str = "", offset: int = 0, limit: int | None = None
) -> tuple[int, list[UserSummary]]:
    """How many users hold ``matching`` (any case) in their address or name (every user
    when it is empty), and ``limit`` of them from ``offset``, oldest first."""
    return admin_rows.list_users(store, matching.strip(), offset, limit)


def user_summary(store: Store, user_id: int) -> UserSummary:
    """One user as the admin pages list them.

    Raises:
        UnknownUserError: no such user (or its owner deleted it).
    """
    _, found = admin_rows.list_users(store, user_id=user_id)
    if not found:
        raise UnknownUserError(f"no user {user_id}")
    return found[0]


def create_user(
    store: Store, actor: Actor, email: str, password: str, name: str = "", admin: bool = False
) -> User:
    """Make an account (an admin's when ``admin``).

    Raises:
        AccountError: bad address, name or too short a password.
        DuplicateEmailError: the address has an account already.
    """
    user = accounts.sign_up(store, email, password, name)
    role = "admin" if admin else "user"
    if admin:
        admin_rows.set_role(store, user.id, "admin")
    record(store, actor, "user.create", user.email, f"role {role}")
    return account_rows.find_user(store, user.id) or user


def _last_admin(store: Store, user: User) -> bool:
    return user.is_admin and admin_rows.count_active_admins(store) <= 1


def promote(store: Store, actor: Actor, user: User) -> User:
    """Make a user an admin (nothing changes if they are one)."""
    if user.role != "admin":
        admin_rows.set_role(store, user.id, "admin")
        record(store, actor, "user.promote", user.email)
    return find_user(store, user.id)


def demote(store: Store, actor: Actor, user: User) -> User:
    """Make an admin a plain user again.

    Raises:
        AdminError: they are the last enabled admin (the site would have none).
    """
    if user.role != "admin":
        return user
    if _last_admin(store, user):
        raise AdminError(
            f"{user.email} is the last admin; promote another user first "
            "(paperfeed users promote EMAIL)"
        )
    admin_rows.set_role(store, user.id, "user")
    record(store, actor, "user.demote", user.email)
    return find_user(store, user.id)


def disable(store: Store, actor: Actor, user: User, hide_comments: bool = False) -> int:
    """Disable an account: every session and API token of it ends at once, and it cannot
    sign in. What it wrote stays visible unless ``hide_comments``.

    Returns:
        How many comments were hidden.

    Raises:
        AdminError: an admin disabling their own account, or the last admin.
    """
    if actor.user_id == user.id:
        raise AdminError(f"you cannot disable your own account ({user.email})")
    if _last_admin(store, user):
        raise AdminError(f"{user.email} is the last admin; promote another user first")
    hidden = 0
    if user.disabled_at is None:
        admin_rows.set_disabled(store, user.id, time.time())
        record(store, actor, "user.disable", user.email)
    if hide_comments:
        hidden = moderation_rows.hide_comments_of(store, user.id, time.time())
        record(store, actor, "user.hide_comments", user.email, f"{hidden} comments hidden")
    return hidden


def enable(store: Store, actor: Actor, user: User) -> User:
    """Let a disabled account sign in again (its old sessions and tokens stay ended)."""
    if user.disabled_at is not None:
        admin_rows.set_disabled(store, user.id, None)
        record(store, actor, "user.enable", user.email)
    return find_user(store, user.id)


def reset_password(store: Store, actor: Actor, user: User, password: str) -> tuple[int, int]:
    """Set a user's password; every session, API token and reset link of theirs ends at
    once.

    Returns:
        How many sessions and tokens ended.

    Raises:
        AccountError: too short a password.
    """
    ended = accounts.replace_password(store, user.id, password, field="password")
    record(store, actor, "user.reset_password", user.email)
    return ended


# -- invites and the sign-up policy ------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/signup?invite={token}"


def create_invite(
    store: Store, actor: Actor, email: str | None = None, days: float = DEFAULT_INVITE_DAYS
) -> tuple[Invite, str]:
    """A single-use invite, valid for ``days``, bound to ``email`` when given.

    Returns:
        The invite and its token (shown once: only its hash is kept).

    Raises:
        AdminError: ``days`` not positive; AccountError: a bad address.
    """
    if not days > 0 or days > 3650:
        raise AdminError(f"invite validity {days!r} days must be more than 0 and at most 3650")
    address = accounts.normalize_email(email) if email and email.strip() else None
    token = secrets.token_urlsafe(24)
    now = time.time()
    invite = admin_rows.insert_invite(
        store, _token_hash(token), address, actor.user_id, now, now + days * 86400
    )
    expires = datetime.fromtimestamp(invite.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    record(
        store,
        actor,
        "invite.create",
        f"invite {invite.id}",
        f"for {address or 'anyone'}, expires {expires}",
    )
    return invite, token


def list_invites(store: Store) -> list[Invite]:
    return admin_rows.list_invites(store)


def revoke_invite(store: Store, actor: Actor, invite_id: int) -> None:
    """Revoke an unused invite.

    Raises:
        UnknownInviteError: no such invite.
        AdminError: it was used or revoked already.
    """
    invite = admin_rows.find_invite(store, invite_id)
    if invite is None:
        raise UnknownInviteError(f"no invite {invite_id}")
    if not admin_rows.revoke_invite(store, invite_id, time.time()):
        raise AdminError(f"invite {invite_id} was used or revoked already")
    record(store, actor, "invite.revoke", f"invite {invite_id}")


def invite_state(invite: Invite, now: float | None = None) -> str:
    """``open``, ``used``, ``revoked`` or ``expired``."""
    moment = time.time() if now is None else now
    if invite.used_at is not None:
        return "used"
    if invite.revoked_at is not None:
        return "revoked"
    if invite.expires_at <= moment:
        return "expired"
    return "open"


def check_invite(store: Store, token: str, email: str | None = None) -> Invite:
    """The invite behind a link's token, if it can still be used (by ``email``).

    Raises:
        InviteError: unknown, used, revoked, expired, or bound to another address.
    """
    invite = admin_rows.find_invite_by_hash(store, _token_hash(token.strip())) if token else None
    if invite is None:
        raise InviteError("this invite link is not valid (ask an admin for a new one)")
    state = invite_state(invite)
    if state == "used":
        raise InviteError("this invite link has been used already (each link works once)")
    if state == "revoked":
        raise InviteError("this invite link was revoked by an admin")
    if state == "expired":
        when = datetime.fromtimestamp(invite.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        raise InviteError(f"this invite link expired on {when} (ask an admin for a new one)")
    if email is not None and invite.email is not None:
        try:
            address = accounts.normalize_email(email)
        except AccountError:
            address = email
        if address != invite.email:
            raise InviteError(
                f"this invite is for another address, not {quoted(email)}; sign up with the "
                "address the invite was sent to"
            )
    return invite


def sign_up(
    store: Store,
    policy: str,
    email: str,
    password: str,
    name: str = "",
    invite_token: str | None = None,
) -> User:
    """Sign up under the site's policy (``PAPERFEED_SIGNUP``).

    ``open``: anyone; an invite, when given, is still checked and used up. ``invite``:
    only with a valid invite. ``closed``: nobody. Nothing is created when any check
    fails, and an invite is used up only by the sign-up that succeeds.

    Raises:
        SignUpClosedError, InviteError, AccountError, DuplicateEmailError.
    """
    if policy == "closed":
        raise SignUpClosedError("sign-up is closed on this site; an admin can make you an account")
    if policy == "invite" and not invite_token:
        raise InviteError("sign-up on this site needs an invite link from an admin")
    if not invite_token:
        return accounts.sign_up(store, email, password, name)
    accounts.check_sign_up(email, password, name)
    invite = check_invite(store, invite_token, email)
    if not admin_rows.claim_invite(store, invite.id, time.time()):
        # another sign-up took it between the check and now
        raise InviteError("this invite link has been used already (each link works once)")
    try:
        user = accounts.sign_up(store, email, password, name)
    except (AccountError, accounts.DuplicateEmailError):
        admin_rows.release_invite(store, invite.id)
        raise
    admin_rows.record_invite_user(store, invite.id, user.id)
    return user
