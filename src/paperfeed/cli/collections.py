"""``paperfeed collections``: list, export and import collections from the shell.

Thin wrappers over ``paperfeed.collections``; run by the site's operator, so a user is
named by email address and any collection may be exported.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from paperfeed import collections as lists
from paperfeed.accounts import RateLimitedError
from paperfeed.cli.common import load_settings, open_store
from paperfeed.collections import CollectionNotFoundError, NotYourCollectionError
from paperfeed.collections.exporting import FORMATS, export_papers
from paperfeed.collections.importing import IMPORT_FORMATS, ImportFileError, import_references
from paperfeed.mail_addresses import address_key
from paperfeed.store import Store
from paperfeed.store.accounts import User, find_user_by_email
from paperfeed.store.collections import find_collection


def _store() -> Store:
    return open_store(load_settings())


def _user(store: Store, email: str) -> User:
    user = find_user_by_email(store, address_key(email))
    if user is None:
        raise click.ClickException(f"no account for {email!r}")
    return user


@click.group("collections")
def collections_command() -> None:
    """Users' collections (reading lists): list, export, import."""


@collections_command.command("list")
@click.argument("email")
def list_collections(email: str) -> None:
    """The collections of the account EMAIL."""
    store = _store()
    for collection in lists.collections_of(store, _user(store, email)):
        visibility = "public" if collection.is_public else "private"
        click.echo(
            f"{collection.id}\t{collection.name}\t{collection.paper_count} papers\t{visibility}"
        )


@collections_command.command("export")
@click.argument("collection_id", type=int)
@click.option(
    "--format", "name", type=click.Choice(list(FORMATS)), default="bibtex", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file (default, or -: stdout).",
)
def export(collection_id: int, name: str, output: Path | None) -> None:
    """Write collection COLLECTION_ID as BibTeX, RIS, CSV or JSON."""
    store = _store()
    collection = find_collection(store, collection_id)
    if collection is None:
        raise click.ClickException(f"no collection {collection_id}")
    text, _ = export_papers(collection, lists.collection_papers(store, collection), name)
    if output is None or str(output) == "-":  # as search --batch - reads stdin
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:  # a missing folder, no permission, a full disk
            raise click.ClickException(f"cannot write {output}: {error.strerror}") from None
        click.echo(f"wrote {collection.paper_count} papers to {output}", err=True)


@collections_command.command("import")
@click.argument("collection_id", type=int)
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "email", required=True, help="The collection owner's email.")
@click.option(
    "--format",
    "name",
    type=click.Choice(IMPORT_FORMATS),
    default="auto",
    show_default=True,
    help="auto: told apart by the file's content.",
)
def import_file(collection_id: int, source: Path, email: str, name: str) -> None:
    """Add the papers of a BibTeX or RIS file to collection COLLECTION_ID.

    Exits 0 when every entry matched a stored paper, 3 when some did not (they are
    listed; the matched ones are added), 2 on a file that is not BibTeX or RIS, 1 on an
    unknown user or collection.
    """
    store = _store()
    user = _user(store, email)
    try:
        report = import_references(store, user, collection_id, source.read_bytes(), name)
    except (CollectionNotFoundError, NotYourCollectionError, RateLimitedError) as error:
        raise click.ClickException(str(error)) from None
    except ImportFileError as error:
        click.echo(f"Error: {source}: {error}", err=True)
        sys.exit(2)
    click.echo(
        f"{report.total} entries ({report.format}): added {len(report.added)}, "
        f"already there {len(report.already)}, not matched {len(report.unmatched)}"
    )
    for label, reason in report.unmatched:
        click.echo(f"  not matched: {label}: {reason}")
    if report.unmatched:
        sys.exit(3)
