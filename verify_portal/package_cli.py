"""`lianzheng export` and `lianzheng verify`: evidence packages for courts."""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from evidence import verify as verifier
from evidence.service import CUSTODY_REASONS
from ledger.verdict import Status
from verify_portal.trust_cli import chains_of, roots_for_verifying, verifier_options

if TYPE_CHECKING:
    from verify_portal.services import Services


@click.command("export")
@click.argument("case_no")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--as", "username", required=True, help="The supervisor or court user exporting it.")
@click.option("--reason", type=click.Choice(CUSTODY_REASONS), default="litigation", show_default=True)
@click.option("--wait", type=float, default=120.0, show_default=True,
              help="Seconds to wait for an anchor that covers the case.")
def export(case_no: str, output: Path, username: str, reason: str, wait: float) -> None:
    """Write CASE_NO's signed evidence package (zipped BagIt) to OUTPUT, with a progress bar."""
    from verify_portal.cli import _actor, _services
    from verify_portal.export import export_case

    services = _services()
    actor = _actor(services, username)
    total = _evidence_bytes(services, case_no)
    partial = output.with_name(output.name + ".partial")
    click.echo(f"exporting {case_no}; waiting up to {wait:.0f} s for an anchor if the case is not anchored yet",
               err=True)
    try:
        with open(partial, "w+b") as out, click.progressbar(length=total, label="packaging", file=sys.stderr) as bar:
            summary = export_case(services, actor, case_no, out, reason, wait, bar.update)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(output)  # a package appears under its name only when complete
    click.echo(json.dumps({**summary, "package": str(output)}, ensure_ascii=False))


def _evidence_bytes(services: Services, case_no: str) -> int:
    from sqlalchemy import func, select

    from evidence.models import EvidenceItem

    with services.sessions() as session:
        return session.scalar(select(func.coalesce(func.sum(EvidenceItem.size), 0))
                              .where(EvidenceItem.case_no == case_no)) or 0


@click.command("verify")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@verifier_options
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as JSON.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as HTML.")
@click.option("--pdf", "pdf_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as PDF.")
@click.option("--memory-limit", type=click.IntRange(min=64), default=None, metavar="MIB",
              help="Cap this process's memory (the court page runs the verifier so).")
def verify(package: Path, trust_files: tuple[Path, ...], rpc_urls: tuple[str, ...], require_chain: bool,
           json_out: Path | None, html_out: Path | None, pdf_out: Path | None,
           memory_limit: int | None) -> None:
    """Verify an evidence package against the trust roots you hold, check by check.

    Exit 0 VERIFIED, 1 NOT VERIFIED (a check failed), 2 usage error, 3 INCOMPLETE (a required
    check could not be completed, e.g. the chain is unreachable).
    """
    if memory_limit is not None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit << 20, memory_limit << 20))
    roots = roots_for_verifying(trust_files)
    chains = chains_of(rpc_urls)
    chain_check = _chain_check(chains) if chains else None
    report = verifier.verify(str(package), roots, chain_check, require_chain=require_chain)
    _print_report(report)
    if json_out:
        json_out.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    if html_out:
        html_out.write_text(verifier.report_html(report))
    if pdf_out:
        from evidence import report_pdf

        pdf_out.write_bytes(report_pdf.render_verification(report))
    sys.exit(report.exit_code)


def _print_report(report: verifier.Report) -> None:
    marks = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.NOT_RUN: "----", Status.INCOMPLETE: "????"}
    for check in report.checks:
        click.echo(f"{marks[check.status]}  {check.label}: {check.detail}")
    for path in report.coverage.get("signature_only", []):
        click.echo(f"note  {path}: covered by the agency's signature only, not by the log")
    click.echo(report.headline())
    click.echo(report.statement())


def _chain_check(chains: list[Any]) -> verifier.ChainCheck:
    from anchor.receipt import chain_for, check_anchor

    return lambda pin, claim: check_anchor(chain_for(pin, chains), pin, claim)
