"""The `lianzheng` command: serve, audit, cases, users, log proofs, schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from evidence.service import view
from ledger.errors import LianzhengError
from ledger.users import Actor, Role, add_user, by_username
from verify_portal import anchoring, backup_cli, chain_cli, keys_cli, logs, package_cli, trust_cli, upload_cli
from verify_portal.services import Services, build, migrate, upgrade_database
from verify_portal.settings import Settings, private_files


class _Group(click.Group):
    """Domain errors become one clear line on stderr and exit code 1, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LianzhengError as exc:
            errors = exc.details.get("errors")
            detail = "".join(f"\n  {e['field']}: {e['message']}" for e in errors) if isinstance(errors, list) else ""
            click.echo(f"lianzheng: {exc.code}: {exc.message}{detail}", err=True)
            sys.exit(1)


def _services(upgrade: bool = True) -> Services:
    settings = Settings.from_env()
    if upgrade and settings.migration_database_url:
        upgrade_database(settings)  # as the owner; the service role then finds the schema current
    services = build(settings)
    if upgrade and not settings.migration_database_url:
        migrate(services.engine)
    return services


def _print(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


@click.group(cls=_Group)
def main() -> None:
    """链证 Lianzheng: evidence and audit ledger for city-management law enforcement."""
    private_files()


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default LIANZHENG_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default LIANZHENG_PORT or 8000).")
@click.option("--workers", default=None, type=int, help="Worker processes (default LIANZHENG_WORKERS or 2).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Migrate, create keys on first start, start the local chain and anchor worker, serve under gunicorn.

    With LIANZHENG_RPC_URL set (production) the anchor worker runs apart: `lianzheng anchor run`.
    """
    from verify_portal.server import run

    logs.configure()  # the master's own lines (the chain, the anchor worker's supervisor) beside gunicorn's
    services = _services()
    settings = services.settings
    services.evidence.blobs.sweep_stale()  # half-written files of a killed predecessor: never blobs
    services.uploads.sweep()  # resumable uploads past their expiry
    services.engine.dispose()  # the workers open their own connections after fork
    with anchoring.serving_chain(settings):
        run(host or settings.host, port or settings.port, workers or settings.workers)


main.add_command(chain_cli.chain)
main.add_command(chain_cli.anchor)
main.add_command(chain_cli.verify_receipt)
main.add_command(upload_cli.upload)
main.add_command(package_cli.export)
main.add_command(package_cli.verify)
main.add_command(trust_cli.trust_group)
main.add_command(trust_cli.court_roots_group)
main.add_command(keys_cli.keys_group)
main.add_command(backup_cli.backup)
main.add_command(backup_cli.restore)


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply all Alembic migrations."""
    _services(upgrade=True)
    click.echo("schema is up to date")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def audit(as_json: bool) -> None:
    """Recompute the tree from the stored leaves and check nodes, checkpoints and case chains; rebuild every
    derived table (cases, parties, evidence, devices, recipients, statements) from the log and name each
    row and column that differs; check every blob and each device's segments; compare every anchored root
    with the log's. Exit 0 when clean, 2 with findings."""
    from verify_portal.auditing import audit_and_record

    services = _services()
    report = audit_and_record(services, "cli", progress=None if as_json else _progress)
    if as_json:
        _print(report.to_json())
    else:
        click.echo(report.summary())
        for finding in report.findings:
            click.echo(f"  {finding}")
        for known in report.acknowledged:
            click.echo(f"  acknowledged: {known}")
    sys.exit(0 if report.clean else 2)


def _progress(done: int, total: int) -> None:
    click.echo(f"\r  checked {done:,} of {total:,} leaves", nl=done >= total, err=True)


@main.group()
def user() -> None:
    """Users and their bearer tokens."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--district", default=None, help="Bind an officer to one district's cases.")
def user_add(username: str, role: str, district: str | None) -> None:
    """Create a user and print its bearer token (shown once)."""
    services = _services()
    with services.sessions.begin() as session:
        token = add_user(session, username, Role(role), district)
    click.echo(token)


@user.command("password")
@click.argument("username")
@click.password_option(help="The portal password (asked twice when not given).")
def user_password(username: str, password: str) -> None:
    """Set USERNAME's password for the portal's staff pages (at least 12 characters)."""
    _services().staff.set_password(username, password)
    click.echo(f"portal password set for {username}")


@main.group()
def case() -> None:
    """Open cases, record steps, read them (acting as a named user)."""


_as = click.option("--as", "username", required=True, help="The user the step is recorded for.")


def _json_arg(value: str | None, what: str) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{what} is not valid JSON: {exc}") from None


def _actor(services: Services, username: str) -> Actor:
    with services.sessions() as session:
        return by_username(session, username)


@case.command("create")
@_as
@click.option("--source", required=True)
@click.option("--violation-type", required=True)
@click.option("--district", required=True)
@click.option("--party", default=None, help="The party as JSON: name, id_type, id_number, phone, address, plate.")
def case_create(username: str, source: str, violation_type: str, district: str, party: str | None) -> None:
    """Open a case (REPORTED)."""
    services = _services()
    report = {"source": source, "violation_type": violation_type, "district": district}
    _print(services.cases.create(_actor(services, username), report, _json_arg(party, "--party")))


@case.command("step")
@_as
@click.argument("case_no")
@click.argument("state")
@click.option("--payload", default=None,
              help="The step's payload as JSON, e.g. '{\"outcome\": \"fine\", \"amount_fen\": 20000}'.")
@click.option("--party", default=None, help="The party as JSON (only when filing).")
def case_step(username: str, case_no: str, state: str, payload: str | None, party: str | None) -> None:
    """Record a step of CASE_NO into STATE."""
    services = _services()
    _print(services.cases.transition(
        _actor(services, username), case_no, state.upper(), _json_arg(payload, "--payload"), _json_arg(party, "--party")
    ))


@case.command("show")
@_as
@click.argument("case_no")
def case_show(username: str, case_no: str) -> None:
    """A case with its events."""
    services = _services()
    _print(services.cases.get(_actor(services, username), case_no))


@case.command("erase-party")
@_as
@click.argument("case_no")
def case_erase_party(username: str, case_no: str) -> None:
    """Erase the party's personal data (legal deletion); every proof stays valid."""
    services = _services()
    _print(services.cases.erase_party(_actor(services, username), case_no, also=services.statements.erase))


@main.group("log")
def log_group() -> None:
    """The public log: checkpoint and proofs."""


@log_group.command("checkpoint")
def log_checkpoint() -> None:
    """Print the latest signed checkpoint."""
    services = _services()
    with services.sessions() as session:
        click.echo(services.store.checkpoint(session).note, nl=False)


@log_group.command("inclusion")
@click.argument("index", type=int)
@click.option("--size", type=int, default=None, help="Tree size (default: latest checkpoint).")
def log_inclusion(index: int, size: int | None) -> None:
    """Inclusion proof of leaf INDEX."""
    services = _services()
    with services.sessions() as session:
        _print(services.store.inclusion_proof(session, index, size).to_json())


@log_group.command("receipt")
@click.argument("index", type=int)
def log_receipt(index: int) -> None:
    """The receipt of leaf INDEX to the newest anchor (save it; check it with verify-receipt)."""
    _print(anchoring.receipt_of_leaf(_services(), index))


@log_group.command("consistency")
@click.argument("size1", type=int)
@click.argument("size2", type=int, required=False)
def log_consistency(size1: int, size2: int | None) -> None:
    """Consistency proof from SIZE1 to SIZE2 (default: latest checkpoint)."""
    services = _services()
    with services.sessions() as session:
        _print(services.store.consistency_proof(session, size1, size2).to_json())


@main.group()
def evidence() -> None:
    """Evidence items: list a case's, make derived copies."""


@evidence.command("list")
@_as
@click.argument("case_no")
def evidence_list(username: str, case_no: str) -> None:
    """The evidence of CASE_NO, with late and continuity flags."""
    services = _services()
    _print([view(item) for item in services.evidence.of_case(_actor(services, username), case_no)])


@evidence.command("derive")
@_as
@click.argument("evidence_id")
@click.option("--trim", nargs=2, type=float, default=None, metavar="START DURATION", help="Seconds.")
@click.option("--blur", nargs=4, type=int, default=None, metavar="X Y W H", help="A box to blur, in pixels.")
def evidence_derive(username: str, evidence_id: str, trim: tuple[float, float] | None,
                    blur: tuple[int, int, int, int] | None) -> None:
    """A trimmed or blurred copy of a video, registered as its own item; the original is never changed."""
    if (trim is None) == (blur is None):
        raise click.UsageError("give exactly one of --trim START DURATION or --blur X Y W H")
    operation: dict[str, object]
    if trim is not None:
        operation = {"op": "trim", "start": trim[0], "duration": trim[1]}
    else:
        assert blur is not None  # exactly one of the two, checked above
        operation = {"op": "blur", "x": blur[0], "y": blur[1], "w": blur[2], "h": blur[3]}
    services = _services()
    _print(services.evidence.derive(_actor(services, username), evidence_id, operation))


@main.group()
def device() -> None:
    """The device registry: bodycams and cameras that sign their captures."""


@device.command("add")
@_as
@click.argument("serial")
@click.option("--kind", type=click.Choice(["bodycam", "camera"]), required=True)
@click.option("--unit", required=True, help="The owning unit, e.g. xuhui-team-3.")
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The device's Ed25519 or ECDSA P-256 public key, PEM.")
def device_add(username: str, serial: str, kind: str, unit: str, key_file: Path) -> None:
    """Register a certified device (admin)."""
    services = _services()
    _print(services.evidence.devices.register(_actor(services, username), serial, kind, unit, key_file.read_bytes()))


@device.command("revoke")
@_as
@click.argument("serial")
def device_revoke(username: str, serial: str) -> None:
    """Revoke a device: its uploads are refused from now on (admin)."""
    services = _services()
    services.evidence.devices.revoke(_actor(services, username), serial)
    click.echo(f"device {serial} revoked")
