"""Roles, sign-up policy, invites, disabling, moderation and the audit log, on the store
behind them: each test runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text, update

from paperfeed import accounts, administration, discussion, moderation
from paperfeed.administration import Actor, AdminError, InviteError, SignUpClosedError
from paperfeed.store import Store, schema
from paperfeed.store.accounts import find_user_by_email
from paperfeed.store.daily import papers_between
from paperfeed.store.loading import ingest_sources
from paperfeed.store.migrations import MIGRATIONS, applied_versions

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PASSWORD = "correct horse battery"
CLI = Actor(None, "command line (test)")


@pytest.fixture
def store(database_url: str) -> Store:
    store = Store(database_url)
    ingest_sources(
        store, [FIXTURES / "site_daily_papers.jsonl"], "daily-papers-flat", show_progress=False
    )
    return store


def _audit(store: Store) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.target) for e in administration.audit_log(store)][::-1]


def test_migration_9_adds_roles_and_the_moderation_tables(store: Store) -> None:
    assert 9 in applied_versions(store.engine)
    user = accounts.sign_up(store, "ada@example.org", PASSWORD)
    assert (user.role, user.disabled_at, user.is_admin) == ("user", None, False)


def test_first_admin_is_made_on_the_command_line_and_the_last_one_is_kept(store: Store) -> None:
    # a sign-up on an empty site is a plain user: the command line makes admins
    first = administration.sign_up(store, "open", "first@example.org", PASSWORD)
    assert not first.is_admin
    root = administration.create_user(store, CLI, "Root@Example.org", PASSWORD, admin=True)
    assert root.is_admin and root.email == "root@example.org"
    with pytest.raises(AdminError, match="root@example.org is the last admin"):
        administration.demote(store, CLI, root)
    with pytest.raises(AdminError, match="last admin"):
        administration.disable(store, CLI, root)
    promoted = administration.promote(store, Actor.of(root), first)
    assert promoted.is_admin
    assert not administration.demote(store, CLI, root).is_admin
    with pytest.raises(AdminError, match="your own account"):
        administration.disable(store, Actor.of(promoted), promoted)
    assert _audit(store) == [
        ("command line (test)", "user.create", "root@example.org"),
        ("root@example.org", "user.promote", "first@example.org"),
        ("command line (test)", "user.demote", "root@example.org"),
    ]


def test_disabling_ends_sessions_and_tokens_and_hides_nothing_unless_asked(store: Store) -> None:
    admin = administration.create_user(store, CLI, "root@example.org", PASSWORD, admin=True)
    user = accounts.sign_up(store, "eve@example.org", PASSWORD, "Eve")
    session = accounts.start_session(store, user)
    token = accounts.create_api_token(store, user)
    comment = discussion.post_comment(store, user, "2608.19880", "hello there")
    administration.disable(store, Actor.of(admin), user)
    assert accounts.user_for_session(store, session) is None
    assert accounts.user_for_token(store, token) is None
    with pytest.raises(accounts.AccountDisabledError):  # the right password, disabled
        accounts.authenticate(store, "eve@example.org", PASSWORD)
    paper = store.get_paper("2608.19880")
    assert paper is not None
    [thread] = discussion.paper_threads(store, paper)
    assert thread.comment.text == "hello there" and not thread.comment.removed_by_moderator

    eve = administration.enable(store, Actor.of(admin), administration.find_user(store, user.id))
    assert eve.disabled_at is None
    assert accounts.user_for_session(store, session) is None  # ended sessions stay ended
    assert accounts.authenticate(store, "eve@example.org", PASSWORD) is not None
    hidden = administration.disable(store, Actor.of(admin), eve, hide_comments=True)
    assert hidden == 1
    [thread] = discussion.paper_threads(store, paper)
    assert thread.comment.id == comment.id and thread.comment.moderation == "hidden"
    assert [action for _, action, _ in _audit(store)][-2:] == ["user.disable", "user.hide_comments"]


def test_reset_password_ends_every_session_and_token(store: Store) -> None:
    user = accounts.sign_up(store, "ada@example.org", PASSWORD)
    sessions = [accounts.start_session(store, user) for _ in range(2)]
    token = accounts.create_api_token(store, user)
    with pytest.raises(accounts.AccountError, match="at least 8"):
        administration.reset_password(store, CLI, user, "short")
    assert accounts.user_for_token(store, token) is not None  # nothing changed
    from paperfeed import password_reset

    mailed = password_reset.issue_reset(store, "secret", "ada@example.org")
    assert mailed is not None
    assert administration.reset_password(store, CLI, user, "a new password") == (2, 1)
    # a reset link mailed before is dead too, as after the owner's own change
    with pytest.raises(password_reset.ResetLinkError):
        password_reset.check_reset_link(store, "secret", mailed.token)
    assert all(accounts.user_for_session(store, s) is None for s in sessions)
    assert accounts.user_for_token(store, token) is None
    assert accounts.authenticate(store, "ada@example.org", PASSWORD) is None
    assert accounts.authenticate(store, "ada@example.org", "a new password") is not None


def test_invites_are_single_use_expiring_and_bound_to_their_address(store: Store) -> None:
    admin = administration.create_user(store, CLI, "root@example.org", PASSWORD, admin=True)
    actor = Actor.of(admin)
    with pytest.raises(InviteError, match="needs an invite"):
        administration.sign_up(store, "invite", "bob@example.org", PASSWORD)
    with pytest.raises(SignUpClosedError, match="closed"):
        administration.sign_up(store, "closed", "bob@example.org", PASSWORD)
    _, bound = administration.create_invite(store, actor, "Bob@Example.org", days=1)
    with pytest.raises(InviteError, match="another address, not 'mallory@example.org'"):
        administration.sign_up(store, "invite", "mallory@example.org", PASSWORD, "", bound)
    with pytest.raises(accounts.AccountError, match="at least 8"):
        administration.sign_up(store, "invite", "bob@example.org", "short", "", bound)
    bob = administration.sign_up(store, "invite", "bob@example.org", PASSWORD, "Bob", bound)
    assert bob.email == "bob@example.org"
    with pytest.raises(InviteError, match="used already"):
        administration.sign_up(store, "invite", "carol@example.org", PASSWORD, "", bound)
    with pytest.raises(InviteError, match="not valid"):
        administration.sign_up(store, "invite", "carol@example.org", PASSWORD, "", "forged")

    # a taken address does not use the invite up
    invite, anyone = administration.create_invite(store, actor)
    with pytest.raises(accounts.DuplicateEmailError):
        administration.sign_up(store, "invite", "bob@example.org", PASSWORD, "", anyone)
    assert administration.invite_state(administration.check_invite(store, anyone)) == "open"

    with store.engine.begin() as connection:
        connection.execute(
            update(schema.invites)
            .where(schema.invites.c.id == invite.id)
            .values(expires_at=time.time() - 1)
        )
    with pytest.raises(InviteError, match="expired on"):
        administration.sign_up(store, "invite", "carol@example.org", PASSWORD, "", anyone)
    _, revoked = administration.create_invite(store, actor)
    administration.revoke_invite(store, actor, administration.check_invite(store, revoked).id)
    with pytest.raises(InviteError, match="revoked"):
        administration.check_invite(store, revoked)
    assert find_user_by_email(store, "carol@example.org") is None
    assert find_user_by_email(store, "mallory@example.org") is None
    with pytest.raises(AdminError, match="invite validity -1 days"):
        administration.create_invite(store, actor, days=-1)


def test_reports_removal_and_the_thread_that_remains(store: Store) -> None:
    admin = administration.create_user(store, CLI, "root@example.org", PASSWORD, admin=True)
    ada = accounts.sign_up(store, "ada@example.org", PASSWORD, "Ada")
    eve = accounts.sign_up(store, "eve@example.org", PASSWORD, "Eve")
    spam = discussion.post_comment(store, eve, "2608.19880", "buy cheap watches")
    reply = discussion.post_comment(store, ada, "2608.19880", "this is spam", spam.id)
    with pytest.raises(moderation.ModerationError, match="reason is empty"):
        moderation.report_comment(store, ada, spam.id, "  ")
    with pytest.raises(moderation.UnknownTargetError, match="no comment 999"):
        moderation.report_comment(store, ada, 999, "spam")
    moderation.report_comment(store, ada, spam.id, "spam")
    with pytest.raises(moderation.DuplicateReportError, match="already"):
        moderation.report_comment(store, ada, spam.id, "still spam")
    [report] = moderation.open_reports(store)
    assert (report.reporter, report.reason, report.comment_text) == (
        "ada@example.org",
        "spam",
        "buy cheap watches",
    )

    moderation.remove_comment(store, Actor.of(admin), spam.id, "delete")
    assert moderation.open_reports(store) == []
    paper = store.get_paper("2608.19880")
    assert paper is not None
    [thread] = discussion.paper_threads(store, paper)
    assert thread.comment.moderation == "deleted" and thread.comment.text == ""
    assert [r.id for r in thread.replies] == [reply.id]
    with pytest.raises(discussion.CommentNotFoundError, match="removed by a moderator"):
        discussion.edit_comment(store, eve, spam.id, "edited back")
    with pytest.raises(discussion.DiscussionError, match="removed by a moderator"):
        discussion.post_comment(store, ada, "2608.19880", "another reply", spam.id)
    assert discussion.comment_totals(store, [paper])[paper.key] == (paper.num_comments or 0) + 1

    hidden = discussion.post_comment(store, eve, "2608.19880", "rude words")
    moderation.remove_comment(store, Actor.of(admin), hidden.id, "hide")
    restored = moderation.restore_comment(store, Actor.of(admin), hidden.id)
    assert restored.text == "rude words" and restored.moderation is None
    with pytest.raises(moderation.ModerationError, match="only a hidden one is restored"):
        moderation.restore_comment(store, Actor.of(admin), spam.id)
    actions = [action for _, action, _ in _audit(store)]
    assert actions[-3:] == ["comment.delete", "comment.hide", "comment.restore"]


def test_a_hidden_paper_leaves_the_daily_list_until_shown_again(store: Store) -> None:
    admin = administration.create_user(store, CLI, "root@example.org", PASSWORD, admin=True)
    day = "2026-08-21"
    before = [paper.arxiv_id for paper in papers_between(store, day, day)]
    target = before[0]
    moderation.hide_paper(store, Actor.of(admin), target, "off-topic")
    assert target not in [paper.arxiv_id for paper in papers_between(store, day, day)]
    assert [p.arxiv_id for p in moderation.hidden_papers(store)] == [target]
    with pytest.raises(moderation.ModerationError, match="hidden already"):
        moderation.hide_paper(store, Actor.of(admin), target)
    with pytest.raises(moderation.ModerationError, match="'x1' is not an arXiv id"):
        moderation.hide_paper(store, Actor.of(admin), "x1")
    moderation.unhide_paper(store, Actor.of(admin), target)
    assert [paper.arxiv_id for paper in papers_between(store, day, day)] == before
    with store.engine.connect() as connection:
        entries = connection.execute(
            select(schema.audit_log.c.action, schema.audit_log.c.target, schema.audit_log.c.detail)
        ).all()
    assert [tuple(row) for row in entries][-2:] == [
        ("paper.hide", f"paper {target}", "off-topic"),
        ("paper.unhide", f"paper {target}", ""),
    ]


def test_an_account_its_owner_deleted_is_no_longer_listed(store: Store) -> None:
    from paperfeed.account_data import delete_account

    kept = administration.sign_up(store, "open", "kept@example.org", PASSWORD)
    leaving = administration.sign_up(store, "open", "leaving@example.org", PASSWORD)
    delete_account(store, leaving, PASSWORD, "127.0.0.1")
    listed = [summary.email for summary in administration.list_users(store)]
    assert listed == [kept.email]


def test_migration_9_upgrades_a_database_with_users_and_comments(
    database_url: str, paperfeed_home: Path
) -> None:
    """A site made before migration 9 keeps its users (plain users, active) and comments."""
    paperfeed_home.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    schema.schema_migrations.create(engine, checkfirst=True)
    with engine.begin() as connection:
        for version, name, function in MIGRATIONS:
            if version < 9:
                function(connection)
                connection.execute(
                    schema.schema_migrations.insert().values(
                        version=version, name=name, applied_at="before"
                    )
                )
        connection.execute(
            text(
                "INSERT INTO papers (arxiv_id, title, abstract, title_raw, abstract_raw, "
                "authors, categories, sources, content_hash, change_sequence, updated_at) "
                "VALUES ('2401.00001', 't', 'a', 't', 'a', '[]', '[]', '[]', 'h', 1, 'now')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO users (email, name, password_hash, created_at) "
                "VALUES ('old@example.org', 'Old', 'hash', 1.0)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO comments (paper_key, user_id, text, created_at) "
                "SELECT key, 1, 'kept', 2.0 FROM papers"
            )
        )
    engine.dispose()
    store = Store(database_url)
    assert 9 in applied_versions(store.engine)
    old = find_user_by_email(store, "old@example.org")
    assert old is not None and (old.role, old.disabled_at, old.is_admin) == ("user", None, False)
    paper = store.get_paper("2401.00001")
    assert paper is not None
    [thread] = discussion.paper_threads(store, paper)
    assert thread.comment.text == "kept" and thread.comment.moderation is None
    assert administration.promote(store, CLI, old).is_admin
