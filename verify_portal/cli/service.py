"""`lianzheng db upgrade` and `user`: the schema and the users. The commands that run or audit the
service (serve.py, audit.py) load web3 and start a second later; these do not."""

from __future__ import annotations

import click

from ledger.users import Role, add_user
from verify_portal.cli.common import services


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply all Alembic migrations."""
    services()
    click.echo("schema is up to date")


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
