"""`lianzheng export`: a case's signed evidence package for a court (verified with `lianzheng
verify`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy import func, select

from evidence.models import EvidenceItem
from evidence.service import CUSTODY_REASONS
from verify_portal.app.export import export_case
from verify_portal.app.services import Services
from verify_portal.cli.common import actor, services


@click.command("export")
@click.argument("case_no")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--as", "username", required=True, help="The supervisor or court user exporting it.")
@click.option(
    "--reason", type=click.Choice(CUSTODY_REASONS), default="litigation", show_default=True
)
@click.option(
    "--wait",
    type=float,
    default=120.0,
    show_default=True,
    help="Seconds to wait for an anchor that covers the case.",
)
def export(case_no: str, output: Path, username: str, reason: str, wait: float) -> None:
    """Write CASE_NO's signed evidence package (zipped BagIt) to OUTPUT, with a progress bar."""
    wired = services()
    exporter = actor(wired, username)
    total = _evidence_bytes(wired, case_no)
    partial = output.with_name(output.name + ".partial")
    click.echo(
        f"exporting {case_no}; waiting up to {wait:.0f} s for an anchor if the case is not "
        f"anchored yet",
        err=True,
    )
    try:
        with (
            open(partial, "w+b") as out,
            click.progressbar(length=total, label="packaging", file=sys.stderr) as bar,
        ):
            summary = export_case(wired, exporter, case_no, out, reason, wait, bar.update)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(output)  # a package appears under its name only when complete
    click.echo(json.dumps({**summary, "package": str(output)}, ensure_ascii=False))


def _evidence_bytes(wired: Services, case_no: str) -> int:
    with wired.sessions() as session:
        return (
            session.scalar(
                select(func.coalesce(func.sum(EvidenceItem.size), 0)).where(
                    EvidenceItem.case_no == case_no
                )
            )
            or 0
        )
