"""``paperfeed backup``, ``restore``, ``migrate`` and ``mail test``: running an install.

Thin wrappers over ``paperfeed.operations``; each exits 0 when it did what was asked,
1 (with a message naming the folder, address or setting at fault) when it did not, and 2
for a malformed argument or option, as click does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from paperfeed.cli.common import load_settings, quiet_option
from paperfeed.mail_addresses import AddressError, canonical_address
from paperfeed.operations.backup import BackupError, BackupReport, create_backup
from paperfeed.operations.restore import restore_backup
from paperfeed.operations.upgrading import migrate_database
from paperfeed.store import StoreError


def _counts(report: BackupReport) -> str:
    return ", ".join(f"{count} {name}" for name, count in report.counts.items())


def _say_notes(report: BackupReport, quiet: bool) -> None:
    """The report's warnings, always, and its notes unless ``quiet``, on standard error."""
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not quiet:
        for note in report.notes:
            click.echo(f"note: {note}", err=True)


@click.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--include-secrets",
    is_flag=True,
    help="Also copy the secret key and the SMTP password (keep such a backup private).",
)
@quiet_option("No line per step, nor notes")
def backup(folder: Path, include_secrets: bool, quiet: bool) -> None:
    """Back up the database, the index and the settings into FOLDER, while the site runs.

    FOLDER is written beside itself and renamed into place at the end: an earlier
    backup there is replaced only by a complete one.
    """
    settings = load_settings()
    try:
        report = create_backup(
            settings,
            folder,
            include_secrets,
            on_step=None if quiet else lambda text: click.echo(text, err=True),
        )
    except (BackupError, StoreError) as error:
        raise click.ClickException(str(error)) from None
    _say_notes(report, quiet)
    click.echo(
        f"backed up to {report.folder}: database {report.database}, {report.index_files} "
        f"index files; {_counts(report)}"
    )


@click.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--force", is_flag=True, help="Replace what PAPERFEED_HOME holds now.")
@quiet_option("No line per step, nor notes")
def restore(folder: Path, force: bool, quiet: bool) -> None:
    """Restore the backup in FOLDER into PAPERFEED_HOME (stop the server first).

    Refuses a folder that is not a complete backup, and a home that is not empty
    unless --force; either way nothing is changed.
    """
    settings = load_settings()
    try:
        report = restore_backup(
            settings,
            folder,
            force,
            on_step=None if quiet else lambda text: click.echo(text, err=True),
        )
    except (BackupError, StoreError) as error:
        raise click.ClickException(str(error)) from None
    _say_notes(report, quiet)
    click.echo(f"restored {report.folder} into {settings.home}: {_counts(report)}")


@click.command()
@click.option("--check", is_flag=True, help="Only say what is pending; exit 1 if anything is.")
def migrate(check: bool) -> None:
    """Apply the database migrations this version has and the database lacks.

    Every command that opens the database (paperfeed serve too) applies them as well;
    this one does it on its own and says what it did.
    """
    settings = load_settings()
    try:
        report = migrate_database(settings.database_url, apply=not check)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    for version, name in report.applied:
        click.echo(f"applied {version:03d} {name}")
    for version, name in report.pending:
        click.echo(f"pending {version:03d} {name}")
    if report.unknown:
        # "up to date" would hide that older code now runs on a newer schema
        newer = ", ".join(f"{version:03d}" for version in report.unknown)
        click.echo(
            f"the database has migrations this version does not know ({newer}): a newer "
            "paperfeed upgraded it. Run that version, or restore a backup made before the "
            "upgrade (paperfeed restore)",
            err=True,
        )
        sys.exit(1)
    if report.pending:
        sys.exit(1)
    if not report.applied:
        click.echo(f"the schema is up to date (migration {report.current:03d})")
    else:
        click.echo(f"the schema is now at migration {report.current:03d}")
    click.echo(
        "(paperfeed serve, and every command that opens the database, also applies "
        "pending migrations at start)",
        err=True,
    )


@click.group()
def mail() -> None:
    """The mail server: check that it takes messages."""


@mail.command("test")
@click.argument("address")
def mail_test(address: str) -> None:
    """Send one message to ADDRESS through the configured SMTP server (PAPERFEED_SMTP_*)."""
    try:  # a malformed address is a usage error (exit 2), said before any setting is read
        canonical_address(address)
    except AddressError as error:
        raise click.BadParameter(str(error), param_hint="'ADDRESS'") from None
    settings = load_settings()
    # imported here: it brings the digest's and the search's modules, ~0.3 s of every
    # other command's start
    from paperfeed.operations.mail_check import MailCheckError, send_test_message

    try:
        click.echo(send_test_message(settings, address))
    except MailCheckError as error:
        raise click.ClickException(str(error)) from None


OPERATIONS_COMMANDS = (backup, restore, migrate, mail)
