"""`lianzheng verify`, `verify-receipt` and `verify-equivocation`: what a court runs, offline,
against the trust roots it holds. Nothing here loads the service (no database, no web framework);
web3 only with --rpc."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from evidence import verify as verifier
from evidence.truststore import TrustStore
from ledger import equivocation, jsontext
from ledger.errors import CheckIncomplete, InvalidInput, LianzhengError, VerificationError
from ledger.trust import TrustRoot, TrustRoots
from ledger.verdict import Status
from verify_portal.app.settings import ClientSettings

MAX_RECEIPT_BYTES = 16 << 20  # a receipt or an equivocation record: a few notes and hashes


def trust_store() -> TrustStore:
    """The trust roots this machine holds for verifying (`lianzheng trust add`)."""
    return TrustStore(ClientSettings.from_env(os.environ).trust_store)


F = TypeVar("F", bound=Callable[..., Any])


TRUST_OPTION = click.option(
    "--trust",
    "trust_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A trust root file to verify against instead of the trust store (repeatable).",
)


def verifier_options(command: F) -> F:
    """--trust, --rpc and --require-chain, as `verify` and `verify-receipt` both take them."""
    options = [
        TRUST_OPTION,
        click.option(
            "--rpc",
            "rpc_urls",
            multiple=True,
            help="A JSON-RPC URL of the chain the trust root pins (repeatable; any node of it).",
        ),
        click.option(
            "--require-chain",
            is_flag=True,
            help="Say INCOMPLETE, not VERIFIED, when the anchor was not checked on chain.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def roots_for_verifying(files: Sequence[Path]) -> TrustRoots:
    """The roots of `--trust FILE` options, else of this machine's trust store; a usage error (exit
    2) when there are none or one is malformed, since nothing could then be VERIFIED."""
    try:
        if files:
            return TrustRoots(TrustRoot.parse(f.read_bytes(), str(f)) for f in files)
        roots = trust_store().roots()
    except LianzhengError as exc:
        raise click.UsageError(exc.message) from None
    if not roots.roots:
        raise click.UsageError(
            "no trusted roots: add the agency's root with `lianzheng trust add FILE|URL "
            "--fingerprint HEX`, or pass --trust FILE"
        )
    return roots


def chains_of(urls: Sequence[str]) -> list[Any]:
    """Chain clients for `--rpc` URLs (web3 is loaded only when there are some)."""
    if not urls:
        return []
    from anchor.chain import Chain

    return [Chain(url) for url in urls]


def _report_file(name: str, kind: str) -> Callable[[F], F]:
    """--json/--html/--pdf FILE: where to write the report in that form as well."""
    return click.option(
        f"--{name}",
        f"{name}_out",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=f"Also write the report as {kind}.",
    )


@click.command("verify")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@verifier_options
@_report_file("json", "JSON")
@_report_file("html", "HTML")
@_report_file("pdf", "PDF")
@click.option(
    "--memory-limit",
    type=click.IntRange(min=64),
    default=None,
    metavar="MIB",
    help="Cap this process's memory (the court page runs the verifier so).",
)
def verify(
    package: Path,
    trust_files: tuple[Path, ...],
    rpc_urls: tuple[str, ...],
    require_chain: bool,
    json_out: Path | None,
    html_out: Path | None,
    pdf_out: Path | None,
    memory_limit: int | None,
) -> None:
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
        from evidence import report_pdf  # reportlab, loaded only when a PDF is asked for

        pdf_out.write_bytes(report_pdf.render_verification(report))
    sys.exit(report.exit_code)


def _print_report(report: verifier.PackageReport) -> None:
    marks = {
        Status.PASS: "PASS",
        Status.FAIL: "FAIL",
        Status.NOT_RUN: "----",
        Status.INCOMPLETE: "????",
    }
    for check in report.checks:
        click.echo(f"{marks[check.status]}  {check.label}: {check.detail}")
    for path in report.coverage.get("signature_only", []):
        click.echo(f"note  {path}: covered by the agency's signature only, not by the log")
    click.echo(report.headline())
    click.echo(report.statement())


def _chain_check(chains: list[Any]) -> verifier.ChainCheck:
    from anchor.receipt import (
        chain_for,
        check_anchor,
    )  # web3: only a verification with --rpc needs it

    return lambda pin, claim: check_anchor(chain_for(pin, chains), pin, claim)


@click.command("verify-receipt")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@verifier_options
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def verify_receipt(
    file: Path,
    trust_files: tuple[Path, ...],
    rpc_urls: tuple[str, ...],
    require_chain: bool,
    as_json: bool,
) -> None:
    """Check a saved receipt against your trust root and the chain it pins.

    Exit 0 VERIFIED, 1 NOT VERIFIED, 2 usage error, 3 INCOMPLETE.
    """
    data = _json_file(file, "receipt")
    from anchor import (
        receipt as receipt_mod,
    )  # web3 and the chain client: a receipt's chain leg needs them

    if not isinstance(data, dict) or data.get("format") != receipt_mod.RECEIPT_FORMAT:
        raise click.UsageError(f"{file} is not a {receipt_mod.RECEIPT_FORMAT} receipt")
    roots = roots_for_verifying(trust_files)
    started = time.monotonic()
    report = receipt_mod.verify(data, roots, chains_of(rpc_urls), require_chain)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        marks = {"pass": "PASS", "fail": "FAIL", "not run": "----", "incomplete": "????"}
        for c in report.checks:
            click.echo(f"{marks[c.status.value]}  {c.name}: {c.detail}")
        against = "no trusted root" if report.root is None else report.root.describe()
        click.echo(
            f"receipt {report.verdict.value} against {against} "
            f"in {time.monotonic() - started:.1f} s"
        )
    sys.exit(report.exit_code)


@click.command("verify-equivocation")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@TRUST_OPTION
def verify_equivocation(file: Path, trust_files: tuple[Path, ...]) -> None:
    """Check a witness's equivocation record: two checkpoints the log's trusted key signed that
    cannot both be true.

    Exit 0 split view proven, 1 no split view (a note not signed by a trusted key, or the two
    consistent), 2 usage error, 3 undecided (only a consistency proof from the log can settle it).
    """
    record = _json_file(file, "equivocation record")
    roots = roots_for_verifying(trust_files)
    try:
        found = equivocation.prove(record, roots)
    except InvalidInput as exc:
        raise click.UsageError(exc.message) from None
    except CheckIncomplete as exc:
        click.echo(f"UNDECIDED: {exc.message}")
        sys.exit(3)
    except VerificationError as exc:
        click.echo(f"NO SPLIT VIEW SHOWN: {exc.message}")
        sys.exit(1)
    click.echo(f"EQUIVOCATION: {found}")


def _json_file(file: Path, what: str) -> Any:
    """A small JSON file read under its bounds (size, depth); a usage error (exit 2) otherwise."""
    if file.stat().st_size > MAX_RECEIPT_BYTES:
        raise click.UsageError(f"{file} is larger than any {what} ({MAX_RECEIPT_BYTES:,} bytes)")
    try:
        return jsontext.loads(file.read_bytes(), str(file))
    except InvalidInput as exc:
        raise click.UsageError(exc.message) from None
