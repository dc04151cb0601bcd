"""`lianzheng case`, `evidence` and `device`: cases, their evidence and the device registry, acting
as a named user."""

from __future__ import annotations

from pathlib import Path

import click

from evidence.service import item_json
from verify_portal.app import erasure
from verify_portal.cli import retention
from verify_portal.cli.common import actor, as_user, json_arg, print_json, services


@click.group()
def case() -> None:
    """Open cases, record steps, read them (acting as a named user)."""


@case.command("create")
@as_user
@click.option("--source", required=True)
@click.option("--violation-type", required=True)
@click.option("--district", required=True)
@click.option(
    "--party",
    default=None,
    help="The party as JSON: name, id_type, id_number, phone, address, plate.",
)
def case_create(
    username: str, source: str, violation_type: str, district: str, party: str | None
) -> None:
    """Open a case (REPORTED)."""
    wired = services()
    report = {"source": source, "violation_type": violation_type, "district": district}
    print_json(wired.cases.create(actor(wired, username), report, json_arg(party, "--party")))


@case.command("step")
@as_user
@click.argument("case_no")
@click.argument("state")
@click.option(
    "--payload",
    default=None,
    help='The step\'s payload as JSON, e.g. \'{"outcome": "fine", "amount_fen": 20000}\'.',
)
@click.option("--party", default=None, help="The party as JSON (only when filing).")
def case_step(
    username: str, case_no: str, state: str, payload: str | None, party: str | None
) -> None:
    """Record a step of CASE_NO into STATE."""
    wired = services()
    print_json(
        wired.cases.transition(
            actor(wired, username),
            case_no,
            state.upper(),
            json_arg(payload, "--payload"),
            json_arg(party, "--party"),
        )
    )


@case.command("show")
@as_user
@click.argument("case_no")
def case_show(username: str, case_no: str) -> None:
    """A case with its events."""
    wired = services()
    print_json(wired.cases.get(actor(wired, username), case_no))


@case.command("erase-party")
@as_user
@click.argument("case_no")
def case_erase_party(username: str, case_no: str) -> None:
    """Erase the party's personal data (legal deletion); every proof stays valid."""
    wired = services()
    print_json(erasure.erase_party(wired, actor(wired, username), case_no))


@click.group()
def evidence() -> None:
    """Evidence items: list a case's, make derived copies, hold them for proceedings."""


@evidence.command("list")
@as_user
@click.argument("case_no")
def evidence_list(username: str, case_no: str) -> None:
    """The evidence of CASE_NO, with late and continuity flags."""
    wired = services()
    items = wired.evidence.of_case(actor(wired, username), case_no)
    print_json([item_json(item) for item in items])


@evidence.command("derive")
@as_user
@click.argument("evidence_id")
@click.option(
    "--trim", nargs=2, type=float, default=None, metavar="START DURATION", help="Seconds."
)
@click.option(
    "--blur", nargs=4, type=int, default=None, metavar="X Y W H", help="A box to blur, in pixels."
)
def evidence_derive(
    username: str,
    evidence_id: str,
    trim: tuple[float, float] | None,
    blur: tuple[int, int, int, int] | None,
) -> None:
    """A trimmed or blurred copy of a video, registered as its own item; the original is never
    changed."""
    if (trim is None) == (blur is None):
        raise click.UsageError("give exactly one of --trim START DURATION or --blur X Y W H")
    operation: dict[str, object]
    if trim is not None:
        operation = {"op": "trim", "start": trim[0], "duration": trim[1]}
    else:
        assert blur is not None  # exactly one of the two, checked above
        operation = {"op": "blur", "x": blur[0], "y": blur[1], "w": blur[2], "h": blur[3]}
    wired = services()
    print_json(wired.evidence.derive(actor(wired, username), evidence_id, operation))


evidence.add_command(retention.hold)
evidence.add_command(retention.lift_hold)


@click.group()
def device() -> None:
    """The device registry: bodycams and cameras that sign their captures."""


@device.command("add")
@as_user
@click.argument("serial")
@click.option("--kind", type=click.Choice(["bodycam", "camera"]), required=True)
@click.option("--unit", required=True, help="The owning unit, e.g. xuhui-team-3.")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The device's Ed25519 or ECDSA P-256 public key, PEM.",
)
def device_add(username: str, serial: str, kind: str, unit: str, key_file: Path) -> None:
    """Register a certified device (admin)."""
    wired = services()
    print_json(
        wired.evidence.devices.register(
            actor(wired, username), serial, kind, unit, key_file.read_bytes()
        )
    )


@device.command("issue")
@as_user
@click.argument("serial")
@click.option("--to", "officer", required=True, help="The officer's account code.")
def device_issue(username: str, serial: str, officer: str) -> None:
    """Hand bodycam SERIAL to an officer (admin); a registry event."""
    wired = services()
    print_json(wired.evidence.devices.issue(actor(wired, username), serial, officer))


@device.command("revoke")
@as_user
@click.argument("serial")
def device_revoke(username: str, serial: str) -> None:
    """Revoke a device: its uploads are refused from now on (admin)."""
    wired = services()
    wired.evidence.devices.revoke(actor(wired, username), serial)
    click.echo(f"device {serial} revoked")
