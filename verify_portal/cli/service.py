"""`lianzheng serve`, `db upgrade`, `audit` and `user`: running the service and keeping it sound."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from dataclasses import replace

import click

from ledger.users import Role, add_user
from verify_portal.app import anchoring, witnessing
from verify_portal.app.auditing import audit_and_record
from verify_portal.app.settings import Settings
from verify_portal.cli.common import print_json, services
from verify_portal.web import logs
from verify_portal.web.server import run


@click.command()
@click.option(
    "--host", default=None, help="Interface to listen on (default LIANZHENG_HOST or 127.0.0.1)."
)
@click.option("--port", default=None, type=int, help="Port (default LIANZHENG_PORT or 8000).")
@click.option(
    "--workers", default=None, type=int, help="Worker processes (default LIANZHENG_WORKERS or 2)."
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Migrate, create keys on first start, start the local chain and anchor worker, serve under
    gunicorn.

    With LIANZHENG_RPC_URL set (production) the anchor worker runs apart: `lianzheng anchor run`.
    """
    # the master's own lines (the chain, the anchor worker's supervisor) beside gunicorn's
    logs.configure()
    wired = services()
    settings = wired.settings
    wired.evidence.blobs.sweep_stale()  # half-written files of a killed predecessor: never blobs
    wired.uploads.sweep()  # resumable uploads past their expiry
    with ExitStack() as stack:
        if os.environ.get("LIANZHENG_DEMO_WITNESS") == "1" and not settings.witnesses.file:
            demo_port = int(os.environ.get("LIANZHENG_DEMO_WITNESS_PORT", "8421"))
            stack.enter_context(witnessing.demo_witness(wired, demo_port))
            settings = Settings.from_env()  # now naming the demo witness
        stack.enter_context(anchoring.serving_chain(settings))
        # A root that says what changed since the last start (new SM2 keys, witnesses, the chain).
        replace(wired.trust, settings=settings).publish()
        wired.engine.dispose()  # the workers open their own connections after fork
        run(host or settings.web.host, port or settings.web.port, workers or settings.web.workers)


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply all Alembic migrations."""
    services()
    click.echo("schema is up to date")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--incremental",
    is_flag=True,
    help="Check only what was appended since the last clean audit: from its signed-off root, "
    "the new leaves, nodes, checkpoints, cosignatures, case chains, and the anchors.",
)
def audit(as_json: bool, incremental: bool) -> None:
    """Recompute the tree from the stored leaves and check nodes, checkpoints and case chains;
    rebuild every derived table (cases, parties, evidence, devices, recipients, statements) from the
    log and name each row and column that differs; check every blob and each device's segments;
    compare every anchored root with the log's. Exit 0 when clean, 2 with findings."""
    report = audit_and_record(
        services(), "cli", progress=None if as_json else _progress, incremental=incremental
    )
    if as_json:
        print_json(report.to_json())
    else:
        click.echo(report.summary())
        for finding in report.findings:
            click.echo(f"  {finding}")
        for known in report.acknowledged:
            click.echo(f"  acknowledged: {known}")
    sys.exit(0 if report.clean else 2)


def _progress(done: int, total: int) -> None:
    click.echo(f"\r  checked {done:,} of {total:,} leaves", nl=done >= total, err=True)


@click.group()
def user() -> None:
    """Users and their bearer tokens."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--district", default=None, help="Bind an officer to one district's cases.")
def user_add(username: str, role: str, district: str | None) -> None:
    """Create a user and print its bearer token (shown once)."""
    with services().sessions.begin() as session:
        token = add_user(session, username, Role(role), district)
    click.echo(token)


@user.command("password")
@click.argument("username")
@click.password_option(help="The portal password (asked twice when not given).")
def user_password(username: str, password: str) -> None:
    """Set USERNAME's password for the portal's staff pages (at least 12 characters)."""
    services().logins.set_password(username, password)
    click.echo(f"portal password set for {username}")
