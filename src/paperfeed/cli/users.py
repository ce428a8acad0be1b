"""``paperfeed users``: make accounts and admins, disable and enable them, set passwords,
make invite links, from the server's shell.

Thin wrappers over ``paperfeed.administration``; each change is written to the audit log
as done by the command line. The first admin of a site is made here
(``paperfeed users create EMAIL --admin``): sign-up never makes an admin.
"""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import UTC, datetime

import click

from paperfeed import accounts, administration
from paperfeed.accounts import AccountError, DuplicateEmailError, User
from paperfeed.administration import Actor, AdminError, UnknownUserError
from paperfeed.cli.common import counted, load_settings, open_store
from paperfeed.store import Store

_ERRORS = (AccountError, AdminError, DuplicateEmailError, UnknownUserError)


def _store() -> Store:
    return open_store(load_settings())


def _user(store: Store, reference: str) -> User:
    try:
        return administration.find_user(store, reference)
    except UnknownUserError as error:
        raise click.ClickException(str(error)) from None


def _password(from_stdin: bool) -> str:
    """The new password: one line of stdin with ``--password-stdin`` (for scripts), else
    typed twice at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.ClickException("no password on stdin (expected one line)")
        return line
    typed: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return typed


def _when(moment: float | None) -> str:
    if moment is None:
        return ""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


@click.group("users")
def users_command() -> None:
    """Accounts and admins: create, list, promote, demote, disable, enable,
    reset-password, invite."""


@users_command.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name (default: the address's local part).")
@click.option("--admin", is_flag=True, help="Make the account an admin.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def create(email: str, name: str, admin: bool, password_stdin: bool) -> None:
    """Make an account for EMAIL (the first admin: --admin)."""
    store = _store()
    try:  # a bad or taken address is said before the password is typed twice
        address = accounts.normalize_email(email)
    except AccountError as error:
        raise click.BadParameter(str(error), param_hint="'EMAIL'") from None
    with contextlib.suppress(UnknownUserError):
        administration.find_user(store, address)
        raise click.ClickException(f"an account for {address!r} exists already")
    password = _password(password_stdin)
    try:
        user = administration.create_user(
            store, Actor.command_line(), email, password, name, admin=admin
        )
    except _ERRORS as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@users_command.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_users(as_json: bool) -> None:
    """Every account: id, email, role, state, comments, name."""
    for user in administration.list_users(_store()):
        state = "disabled" if user.disabled_at is not None else "active"
        if as_json:
            record = {
                "id": user.id,
                "email": user.email,
                "name": user.name,
                "role": user.role,
                "state": state,
                "comments": user.comments,
                "created_at": _when(user.created_at),
            }
            click.echo(json.dumps(record))
        else:
            click.echo(
                f"{user.id}\t{user.email}\t{user.role}\t{state}"
                f"\t{counted(user.comments, 'comment')}\t{user.name}"
            )


@users_command.command("promote")
@click.argument("user")
def promote(user: str) -> None:
    """Make USER (an email address or id) an admin."""
    store = _store()
    changed = administration.promote(store, Actor.command_line(), _user(store, user))
    click.echo(f"{changed.email} is an admin")


@users_command.command("demote")
@click.argument("user")
def demote(user: str) -> None:
    """Make the admin USER a plain user (never the last admin)."""
    store = _store()
    try:
        changed = administration.demote(store, Actor.command_line(), _user(store, user))
    except _ERRORS as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{changed.email} is a plain user")


@users_command.command("disable")
@click.argument("user")
@click.option("--hide-comments", is_flag=True, help="Also hide every comment they wrote.")
def disable(user: str, hide_comments: bool) -> None:
    """Disable USER: every session and API token ends now, and sign-in is refused.
    What they wrote stays visible unless --hide-comments."""
    store = _store()
    target = _user(store, user)
    try:
        hidden = administration.disable(
            store, Actor.command_line(), target, hide_comments=hide_comments
        )
    except _ERRORS as error:
        raise click.ClickException(str(error)) from None
    suffix = f"; {counted(hidden, 'comment')} hidden" if hide_comments else ""
    click.echo(f"{target.email} is disabled (sessions and API tokens ended){suffix}")


@users_command.command("enable")
@click.argument("user")
def enable(user: str) -> None:
    """Let the disabled USER sign in again."""
    store = _store()
    changed = administration.enable(store, Actor.command_line(), _user(store, user))
    click.echo(f"{changed.email} is enabled")


@users_command.command("reset-password")
@click.argument("user")
@click.option("--password-stdin", is_flag=True, help="Read the new password from stdin.")
def reset_password(user: str, password_stdin: bool) -> None:
    """Set USER's password; every session and API token of theirs ends."""
    store = _store()
    target = _user(store, user)
    password = _password(password_stdin)
    try:
        sessions, tokens = administration.reset_password(
            store, Actor.command_line(), target, password
        )
    except _ERRORS as error:
        raise click.ClickException(str(error)) from None
    ended = f"{counted(sessions, 'session')} and {counted(tokens, 'API token')}"
    click.echo(f"password of {target.email} set; {ended} ended")


@users_command.command("invite")
@click.option("--email", default=None, help="Only this address may use the invite.")
@click.option(
    "--days",
    type=float,
    default=None,
    help="Days the link stays valid, at most 3650 (default PAPERFEED_INVITE_DAYS, 7).",
)
def invite(email: str | None, days: float | None) -> None:
    """Print a single-use sign-up link (for PAPERFEED_SIGNUP=invite)."""
    # a bad option value is a usage error naming the option, before anything is made
    if days is not None and not 0 < days <= 3650:
        raise click.BadParameter(
            f"invite validity {days!r} days must be more than 0 and at most 3650",
            param_hint="'--days'",
        )
    if email is not None:
        try:
            accounts.normalize_email(email)
        except AccountError as error:
            raise click.BadParameter(str(error), param_hint="'--email'") from None
    settings = load_settings()
    store = _store()
    try:
        made, token = administration.create_invite(
            store, Actor.command_line(), email, days if days is not None else settings.invite_days
        )
    except _ERRORS as error:
        raise click.ClickException(str(error)) from None
    click.echo(administration.invite_link(settings.base_url, token))
    click.echo(
        f"single use, for {made.email or 'anyone'}, expires {_when(made.expires_at)}", err=True
    )
    if not settings.base_url_configured:  # the invitee cannot open a link to localhost
        click.echo(
            f"warning: PAPERFEED_BASE_URL is not set, so the link names {settings.base_url}: "
            "set it to the site's public address (or change the link's start by hand)",
            err=True,
        )
