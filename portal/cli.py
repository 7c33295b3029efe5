"""Command-line tasks: reference data, demo data and first-admin bootstrap."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.extensions import db

seed_cli = AppGroup("seed", help="Load reference and demo data.")
accounts_cli = AppGroup("accounts", help="Manage accounts from the shell.")


@seed_cli.command("wilayah")
def seed_wilayah() -> None:
    """Load (or update) the 22 kecamatan and 394 desa/kelurahan. Idempotent."""
    from portal.wilayah.services import load_gazetteer

    result = load_gazetteer()
    db.session.commit()
    click.echo(f"Wilayah: {result.kecamatan} kecamatan, {result.desa} desa/kelurahan.")


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
