"""`lianzheng retention run`: purge the evidence whose retention has ended, and `lianzheng evidence
hold` / `lift-hold`: the legal role's holds (evidence/retention.py says the rules)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from evidence.retention import HOLD_REASONS, LIFT_REASONS
from verify_portal.cli.common import actor, as_user, print_json, services


@click.group("retention")
def retention_group() -> None:
    """Evidence retention: what the rules let go, and its purge."""


@retention_group.command("run")
@as_user
@click.option("--dry-run", is_flag=True, help="List what would be purged; change nothing.")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="With --dry-run: what would be due on this day (UTC).",
)
def run(username: str, dry_run: bool, as_of: datetime | None) -> None:
    """Purge each item whose case ended longer ago than LIANZHENG_RETENTION_YEARS, and docked
    footage no case holds registered longer ago than LIANZHENG_RETENTION_UNLINKED_MONTHS, that no
    legal hold keeps: a custody event naming the rule, then its blob and poster deleted (the leaf
    stays). Prints what went, and what the blob store still locks."""
    wired = services()
    moment = None if as_of is None else as_of.replace(tzinfo=UTC)
    report = wired.retention.run(actor(wired, username), dry_run, moment)
    print_json({"dry_run": dry_run, **report.to_json()})
    verb = "would purge" if dry_run else "purged"
    click.echo(
        f"{verb} {len(report.purged)} item(s) under {report.rule} or {report.unlinked_rule}; "
        f"{len(report.locked)} still locked by the blob store; "
        f"{report.blobs_deleted} blob(s) deleted",
        err=True,
    )
    for case_no, why in report.refused.items():
        click.echo(f"lianzheng: case {case_no} left alone: {why}", err=True)
    if report.refused:
        sys.exit(1)  # the daily job shows as failed until someone looks (lianzheng audit)


@click.command("hold")
@as_user
@click.argument("evidence_id")
@click.option("--reason", required=True, type=click.Choice(HOLD_REASONS))
def hold(username: str, evidence_id: str, reason: str) -> None:
    """Put EVIDENCE_ID under a legal hold (the legal role): kept until the hold is lifted."""
    wired = services()
    who = actor(wired, username)
    print_json(wired.retention.hold(who, wired.evidence.holdable(who, evidence_id), reason))


@click.command("lift-hold")
@as_user
@click.argument("evidence_id")
@click.option("--reason", required=True, type=click.Choice(LIFT_REASONS))
def lift_hold(username: str, evidence_id: str, reason: str) -> None:
    """Lift the legal hold on EVIDENCE_ID (the legal role): its retention rule applies again."""
    wired = services()
    who = actor(wired, username)
    print_json(wired.retention.lift(who, wired.evidence.holdable(who, evidence_id), reason))
