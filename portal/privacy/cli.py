"""`flask privacy purge`: the retention job (cron, once a day; idempotent)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db

privacy_cli = AppGroup("privacy", help="Personal-data tasks (UU 27/2022) for cron and operators.")


@privacy_cli.command("purge")
def purge_command() -> None:
    """Erase what is past its retention period; prints counts. A second run changes nothing.

    One transaction for the database; files are deleted after it commits, so a failure leaves
    files behind (harmless, unlinked) rather than rows pointing at missing files.
    """
    from portal.privacy.services import delete_files, purge

    # Stored text ("(dihapus)") is written in the default language: that needs a request context.
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        result = purge()
        db.session.commit()
        files = delete_files(result.storage_keys)
    cfg = current_app.config
    click.echo(
        f"SADOKU (closed more than {cfg['SADOKU_RETENTION_DAYS']} days ago): "
        f"{result.sadoku_requests} requests anonymised, "
        f"{result.sadoku_attachments} attachments deleted, "
        f"{result.sadoku_drafts} unsent drafts deleted."
    )
    click.echo(
        f"Jumpa Madu (closed more than {cfg['JUMPA_MADU_RETENTION_DAYS']} days ago): "
        f"{result.pickups} pickups anonymised, {result.pickup_photos} photos deleted."
    )
    click.echo(f"Expired password-reset links deleted: {result.reset_tokens}.")
    click.echo(f"Ended login sessions past retention deleted: {result.sessions}.")
    click.echo(f"Files removed from storage: {files}.")
