"""Command-line tasks: reference data, demo data and first-admin bootstrap."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.extensions import db

seed_cli = AppGroup("seed", help="Load reference and demo data.")
accounts_cli = AppGroup("accounts", help="Manage accounts from the shell.")
jumpa_madu_cli = AppGroup("jumpa-madu", help="Jumpa Madu tasks for cron and operators.")


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
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for email, role in accounts:
        click.echo(f"  {email:<32} {role}")


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


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed_cli)
    app.cli.add_command(accounts_cli)
    app.cli.add_command(jumpa_madu_cli)


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
