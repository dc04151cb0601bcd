"""What the service's commands share: the wired services, the acting user, JSON output."""

from __future__ import annotations

import json
from typing import Any

import click

from ledger.users import Actor, by_username
from verify_portal.app.services import Services, build, migrate, upgrade_database
from verify_portal.app.settings import Settings

as_user = click.option("--as", "username", required=True, help="The user the step is recorded for.")


def services() -> Services:
    """This deployment's services, its schema brought up to date first."""
    settings = Settings.from_env()
    if settings.migration_database_url:
        upgrade_database(settings)  # as the owner; the service role then finds the schema current
    built = build(settings)
    if not settings.migration_database_url:
        migrate(built.engine)
    return built


def actor(services: Services, username: str) -> Actor:
    """The user `username`, acting."""
    with services.sessions() as session:
        return by_username(session, username)


def print_json(obj: Any) -> None:
    """`obj` as indented JSON on standard output."""
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def json_arg(value: str | None, what: str) -> Any:
    """An option's JSON value, a usage error when it is not JSON."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{what} is not valid JSON: {exc}") from None
