"""`lianzheng audit`: the whole log, every derived table, every blob and every anchor checked."""

from __future__ import annotations

import sys

import click

from verify_portal.app.auditing import audit_and_record
from verify_portal.cli.common import print_json, services


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
