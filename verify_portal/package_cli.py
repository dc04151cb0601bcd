"""`lianzheng export`, `lianzheng verify` and `lianzheng package-key`: evidence packages for courts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

from evidence import verify as verifier
from evidence.service import CUSTODY_REASONS
from ledger.errors import ConfigurationError
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
        with open(partial, "wb") as out, click.progressbar(length=total, label="packaging", file=sys.stderr) as bar:
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
@click.option("--rpc", default=None, help="An Ethereum JSON-RPC URL: also check the anchor on chain.")
@click.option("--expect-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The package signing key (PEM) you were given; the signature must be by it.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as JSON.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as HTML.")
@click.option("--pdf", "pdf_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as PDF.")
def verify(package: Path, rpc: str | None, expect_key: Path | None, json_out: Path | None,
           html_out: Path | None, pdf_out: Path | None) -> None:
    """Verify an evidence package offline; each check by name. Exit 0 only if every check passed."""
    key = _public_key(expect_key) if expect_key else None
    report = verifier.verify(str(package), key, _chain_check(rpc) if rpc else None)
    for check in report.checks:
        mark = {True: "PASS", False: "FAIL", None: "----"}[check.passed]
        click.echo(f"{mark}  {check.label}: {check.detail}")
    click.echo(report.statement())
    if json_out:
        json_out.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    if html_out:
        html_out.write_text(verifier.report_html(report))
    if pdf_out:
        from evidence import report_pdf

        pdf_out.write_bytes(report_pdf.render_verification(report))
    sys.exit(0 if report.passed else 2)


def _public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(path.read_bytes())
    except ValueError:
        raise ConfigurationError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"{path} is not an Ed25519 public key")
    return key


def _chain_check(rpc: str):  # type: ignore[no-untyped-def]
    from anchor.chain import Chain
    from anchor.receipt import check_on_chain

    chain = Chain(rpc)
    return lambda anchor: check_on_chain(chain, anchor)


@click.command("package-key")
def package_key() -> None:
    """Print the package signing key's public half (PEM), to hand to courts for --expect-key."""
    from verify_portal.cli import _services

    click.echo(public_pem(_services().package_key), nl=False)


def public_pem(private_key: Ed25519PrivateKey) -> str:
    """The public half of a signing key, as courts receive it."""
    return private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
