"""Command-line tasks: reference data, demo data and first-admin bootstrap."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from portal.extensions import db

seed_cli = AppGroup("seed", help="Load reference and demo data.")
accounts_cli = AppGroup("accounts", help="Manage accounts from the shell.")
jumpa_madu_cli = AppGroup("jumpa-madu", help="Jumpa Madu tasks for cron and operators.")
crypto_cli = AppGroup("crypto", help="NIK/KK encryption keys: new keys, rotation, status.")


@seed_cli.command("wilayah")
def seed_wilayah() -> None:
    """Load (or update) the 22 kecamatan and 394 desa/kelurahan. Idempotent."""
    from portal.wilayah.services import load_gazetteer

    result = load_gazetteer()
    db.session.commit()
    click.echo(f"Wilayah: {result.kecamatan} kecamatan, {result.desa} desa/kelurahan.")


@seed_cli.command("catalogues")
def seed_catalogues() -> None:
    """Load the SADOKU document types and the Jumpa Madu waste categories. Idempotent."""
    from portal.jumpa_madu.services import seed_categories
    from portal.sadoku.services import seed_catalogue

    documents = seed_catalogue()
    categories = seed_categories()
    db.session.commit()
    click.echo(f"Catalogues: {documents} document types and {categories} waste categories added.")


@seed_cli.command("demo")
def seed_demo() -> None:
    """Demo accounts and data for trying the portal. Refused outside demo mode. Idempotent."""
    if not current_app.config.get("DEMO_MODE"):
        raise click.ClickException("Demo data is only allowed in demo mode (never in production).")
    from portal.core.notifications import discard_queued_mail
    from portal.demo import DEMO_PASSWORD, seed_demo_data

    # Notifications and emails link to pages; outside a request the public base URL is used.
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        accounts = seed_demo_data()
        discard_queued_mail()
        db.session.commit()
    from portal.accounts.mfa import DEMO_TOTP_SECRET

    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for email, role in accounts:
        click.echo(f"  {email:<32} {role}")
    click.echo(
        "Staff accounts also ask for a two-step code: add this secret to an authenticator app\n"
        "(or run: .venv/bin/python -c "
        f"\"import pyotp; print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\")\n"
        f"  TOTP secret (demo only): {DEMO_TOTP_SECRET}"
    )


@seed_cli.command("scale")
@click.option(
    "--products",
    type=click.IntRange(min=10),
    default=100_000,
    show_default=True,
    help="Scale of everything: 100000 is the full regency (10k shops, 50k residents, "
    "200k SADOKU requests, 100k pickups, ~1M ledger entries).",
)
@click.option("--seed", type=int, default=2026, show_default=True, help="Random seed.")
@click.option(
    "--photos/--no-photos",
    default=True,
    show_default=True,
    help="Give most products a photo (hard links to the demo's photo files).",
)
@click.option("--force", is_flag=True, help="Add to a database holding more than the demo data.")
def seed_scale(products: int, seed: int, photos: bool, force: bool) -> None:
    """A regency-sized dataset for the benchmark, in bulk (demo mode only; see portal/scale.py).

    Ends with the ledger check (`flask jumpa-madu ledger-check`) and fails if it finds anything.
    """
    from portal.scale import Sizes, refusal
    from portal.scale import seed_scale as make

    if (problem := refusal(force)) is not None:
        raise click.ClickException(problem)
    report = make(Sizes.for_products(products), seed=seed, photos=photos, progress=click.echo)
    for line in report.summary():
        click.echo(line)
    for problem in report.ledger_problems:
        click.echo(problem, err=True)
    if report.ledger_problems:
        raise click.ClickException("The ledger check failed.")


@accounts_cli.command("create-admin")
@click.option("--name", prompt=True)
@click.option("--email", prompt=True)
@click.password_option()
def create_admin(name: str, email: str, password: str) -> None:
    """Create an administrator account (or make an existing account an administrator)."""
    from portal.accounts import services
    from portal.core.errors import DomainError

    user = services.find_user_by_identifier(email)
    if user is None:
        try:
            user = services.register_user(
                full_name=name, email=email, password=password, consent=True
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    services.bootstrap_admin(user)
    db.session.commit()
    click.echo(f"{email} is an administrator.")


@accounts_cli.command("end-all-sessions")
@click.confirmation_option(prompt="Log every user out on every device?")
def end_all_sessions() -> None:
    """Log everyone out everywhere (after a suspected breach; SECURITY.md's runbook)."""
    from portal.accounts.sessions import end_everyone

    ended = end_everyone("ended_by_operator")
    db.session.commit()
    click.echo(f"{ended} session(s) ended.")


@click.command("backup")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    help="Where to write the backup (default: BACKUP_DIR, else instance/backups).",
)
@click.option("--keep", type=int, default=0, help="Keep only the newest N backups (0: keep all).")
@with_appcontext
def backup_database(directory: str | None, keep: int) -> None:
    """Back up the database: SQLite online backup API, or pg_dump -Fc on PostgreSQL.

    Safe while the portal runs; the file is readable by its owner only. See README "Backups".
    """
    from pathlib import Path

    from portal.backup import BackupError, backup_dir, make_backup, prune

    target = (
        Path(directory)
        if directory
        else backup_dir(current_app.config.get("BACKUP_DIR"), current_app.instance_path)
    )
    try:
        made = make_backup(db.engine.url, target)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written: {made.path} ({made.size} bytes)")
    for old in prune(target, keep):
        click.echo(f"Old backup deleted: {old}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(backup_database)
    app.cli.add_command(seed_cli)
    app.cli.add_command(accounts_cli)
    app.cli.add_command(jumpa_madu_cli)
    app.cli.add_command(crypto_cli)
    from portal.privacy.cli import privacy_cli

    app.cli.add_command(privacy_cli)


@jumpa_madu_cli.command("confirm-due")
def jumpa_madu_confirm_due() -> None:
    """Confirm (and credit) weighings left unanswered past the confirmation period.

    Idempotent and safe from cron every few minutes, even when two runs overlap.
    """
    from portal.jumpa_madu.services import confirm_due

    # Notifications and emails link to pages; outside a request the public base URL is used.
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        count = confirm_due()
        db.session.commit()
    click.echo(f"Weighings confirmed automatically: {count}.")


@jumpa_madu_cli.command("ledger-check")
def jumpa_madu_ledger_check() -> None:
    """Check that every transaction sums to zero and every balance equals its entries.

    Prints each discrepancy and exits with status 1 when there is any, so monitoring can alert.
    """
    from portal.jumpa_madu.ledger import check

    problems = check()
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo("Ledger OK: every transaction sums to zero and every balance matches its entries.")


@crypto_cli.command("new-key")
@click.argument("key_id", required=False)
def crypto_new_key(key_id: str | None) -> None:
    """Print a new random key: with KEY_ID an entry for DATA_ENCRYPTION_KEYS, else a lookup key.

    Nothing is stored; put the printed value in the servers' environment.
    """
    from portal.core.crypto import CryptoConfigError, generate_key

    try:
        click.echo(generate_key(key_id))
    except CryptoConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@crypto_cli.command("reencrypt")
def crypto_reencrypt() -> None:
    """Re-encrypt every NIK/KK with the newest key and recompute the lookup hashes.

    Run after putting a new key first in DATA_ENCRYPTION_KEYS (or changing DATA_LOOKUP_KEY) on
    every server. Idempotent and resumable: each batch commits on its own.
    """
    from portal.core.crypto import current_keyring, reencrypt

    keyring = current_keyring()
    for report in reencrypt(db.engine, keyring):
        click.echo(str(report))
    click.echo(f"Every NIK/KK is now encrypted with key {keyring.current_key_id!r}.")


@crypto_cli.command("status")
def crypto_status() -> None:
    """Count the stored NIK/KK values per key id; exits 1 while any value is not encrypted.

    An old key may be removed from DATA_ENCRYPTION_KEYS once no value uses it.
    """
    from portal.core.crypto import key_usage

    with db.engine.connect() as conn:
        usage = key_usage(conn)
    for label, counter in usage.items():
        parts = ", ".join(f"{key_id}: {n}" for key_id, n in sorted(counter.items())) or "empty"
        click.echo(f"{label}: {parts}")
    if any(counter["plaintext"] for counter in usage.values()):
        click.echo("Some values are not encrypted: run `flask crypto reencrypt`.", err=True)
        raise SystemExit(1)
