"""The daily-papers source's submitters and organisations, written with the papers that
name them, on SQLite and PostgreSQL: new ones added, the latest description winning."""

from __future__ import annotations

from paperfeed.models import Paper, SourceAccount
from paperfeed.store import Store
from paperfeed.store.source_accounts import (
    MAX_NAME,
    ORGANIZATION,
    USER,
    record_accounts_in,
    users_and_organizations,
)


def _paper(number: int, *accounts: SourceAccount) -> Paper:
    return Paper(
        arxiv_id=f"2608.{number:05d}",
        title=f"Paper {number}",
        abstract="An abstract.",
        accounts=list(accounts),
    )


def _user(name: str, fullname: str) -> SourceAccount:
    return SourceAccount(USER, name, {"name": name, "fullname": fullname})


def _record(store: Store, papers: list[Paper]) -> int:
    with store.engine.begin() as connection:
        return record_accounts_in(connection, papers)


def test_accounts_are_added_then_only_changed_ones_rewritten(database_url: str) -> None:
    store = Store(database_url)
    lab = SourceAccount(ORGANIZATION, "A Lab", {"name": "a-lab", "fullname": "A Lab"})
    first = [_paper(number, _user(f"user{number}", f"User {number}"), lab) for number in range(700)]
    # a chunk's worth and more: 700 users and one organisation, named by 700 papers
    assert _record(store, first) == 701
    users, _ = users_and_organizations(store, [f"user{number}" for number in range(700)], [])
    assert len(users) == 700 and users["user42"] == {"name": "user42", "fullname": "User 42"}
    assert users_and_organizations(store, [], ["A Lab"])[1] == {"A Lab": lab.profile}

    # the same descriptions again write nothing
    assert _record(store, first) == 0
    # two renamed, one new; within a batch, the last description of an account wins
    again = [
        _paper(1, _user("user1", "Renamed Once")),
        _paper(2, _user("user2", "Renamed Twice"), _user("user1", "Renamed At Last")),
        _paper(3, _user("newcomer", "New Comer"), lab),
    ]
    assert _record(store, again) == 3
    found, _ = users_and_organizations(store, ["user1", "user2", "user3", "newcomer", "nobody"], [])
    assert {name: profile["fullname"] for name, profile in found.items()} == {
        "user1": "Renamed At Last",
        "user2": "Renamed Twice",
        "user3": "User 3",
        "newcomer": "New Comer",
    }


def test_a_name_the_table_cannot_hold_is_left_out_and_the_rest_kept(database_url: str) -> None:
    store = Store(database_url)
    too_long = "x" * (MAX_NAME + 1)
    papers = [
        _paper(1, _user(too_long, "Too Long"), _user("fine", "Fine")),
        _paper(2, _user("nul\x00name", "Has A NUL")),
    ]
    assert _record(store, papers) == 1
    assert users_and_organizations(store, [too_long, "fine"], [])[0] == {
        "fine": {"name": "fine", "fullname": "Fine"}
    }


def test_users_and_organizations_are_read_together_each_by_its_own_kind(
    database_url: str,
) -> None:
    store = Store(database_url)
    # a user and an organisation may share a name: each list finds only its own kind
    twin_user = _user("Twin", "Twin The User")
    twin_lab = SourceAccount(ORGANIZATION, "Twin", {"name": "twin-lab", "fullname": "Twin"})
    labs = [
        SourceAccount(ORGANIZATION, f"Lab {number}", {"name": f"lab-{number}"})
        for number in range(600)
    ]
    papers = [_paper(0, twin_user, twin_lab)] + [
        _paper(number + 1, lab) for number, lab in enumerate(labs)
    ]
    assert _record(store, papers) == 602
    users, organizations = users_and_organizations(store, ["Twin", "", "nobody"], ["Twin"])
    assert users == {"Twin": twin_user.profile}
    assert organizations == {"Twin": twin_lab.profile}
    # more organisations than a chunk, one user: every one is found once
    users, organizations = users_and_organizations(
        store, ["Twin"], [lab.name for lab in labs] + ["Lab 5", "Lab 404"]
    )
    assert users == {"Twin": twin_user.profile}
    assert len(organizations) == 600 and organizations["Lab 599"] == {"name": "lab-599"}
    assert users_and_organizations(store, [], []) == ({}, {})
    assert users_and_organizations(store, [], ["Twin"]) == ({}, {"Twin": twin_lab.profile})
