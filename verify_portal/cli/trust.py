"""`lianzheng trust ...`: the deployment's trust root, and a verifier's own trust store.

The agency side: `trust export` and `trust fingerprint` give courts and citizens
the root (and the fingerprint to print on paper). The verifier's side: `trust
add` takes a root only once its fingerprint is confirmed, `trust update` moves
it forward along successors its package key signed; `lianzheng verify` and
`verify-receipt` look roots up there by the log origin of what they check.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import click

from ledger import jsontext, trust
from ledger.errors import InvalidInput, VerificationError
from ledger.trust import TrustRoot
from verify_portal.cli.common import actor, services
from verify_portal.cli.court import trust_store

MAX_FETCH_BYTES = 4 << 20  # a root is at most 256 KiB; a history of them stays well below this
TRUST_PATH = "/api/v1/trust"


@click.group("trust")
def trust_group() -> None:
    """Trust roots: this deployment's, and the ones this machine trusts for verifying."""


# --- the agency's side
# -----------------------------------------------------------------------------


@trust_group.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write it to a file instead of standard output.",
)
def trust_export(output: Path | None) -> None:
    """This deployment's current trust root, exactly as served at /api/v1/trust."""
    text = services().trust.latest_text()
    if output is None:
        click.echo(text)
        return
    output.write_text(text + "\n")
    click.echo(
        f"wrote the trust root to {output}; its fingerprint: {trust.fingerprint(json.loads(text))}",
        err=True,
    )


@trust_group.command("fingerprint")
def trust_fingerprint() -> None:
    """The current trust root's fingerprint: print it on paper for courts and on notices."""
    click.echo(services().trust.latest().fingerprint)


# --- the verifier's side
# ---------------------------------------------------------------------------


@trust_group.command("add")
@click.argument("source")
@click.option(
    "--fingerprint",
    "expected",
    default=None,
    help="The fingerprint you were given out of band; a root with another is refused.",
)
def trust_add(source: str, expected: str | None) -> None:
    """Trust the root in SOURCE (a file, or a portal's URL) after confirming its fingerprint."""
    data = _fetch(source)
    root = _parse(data, source)
    _show(root)
    if expected is not None:
        given = re.sub(r"[\s:]", "", expected).lower()
        if given != root.fingerprint:
            raise VerificationError(
                f"refused: the root's fingerprint is {root.fingerprint}, not {given}"
            )
    elif not click.confirm("Is this the fingerprint the agency gave you out of band (on paper)?"):
        raise click.ClickException("not added: the fingerprint was not confirmed")
    store = trust_store()
    present = store.for_origin(root.log_origin)
    if present is not None and present.root.fingerprint == root.fingerprint:
        click.echo("already trusted")
        return
    if present is not None:
        raise VerificationError(
            f"a different root for {root.log_origin!r} is trusted already "
            f"({present.root.fingerprint}): `lianzheng trust update` moves it "
            "forward, or remove it first"
        )
    path = store.save(data, root, source if _is_url(source) else str(Path(source).resolve()))
    click.echo(f"trusted: {root.describe()} for log {root.log_origin!r} ({path})")


@trust_group.command("list")
def trust_list() -> None:
    """The roots this machine trusts."""
    stored = trust_store().stored()
    if not stored:
        click.echo(
            "no trusted roots: add one with `lianzheng trust add FILE|URL --fingerprint HEX`"
        )
    for s in stored:
        click.echo(
            f"{s.root.fingerprint}  {s.root.log_origin}  {s.root.agency}"
            + (f"  (from {s.source})" if s.source else "")
        )


@trust_group.command("remove")
@click.argument("ident")
def trust_remove(ident: str) -> None:
    """Stop trusting a root, named by its fingerprint (or its first 8+ hex digits) or its log
    origin."""
    store = trust_store()
    stored = store.find(ident)
    if stored is None:
        raise InvalidInput(f"no trusted root is named {ident!r}")
    store.remove(stored)
    click.echo(f"removed {stored.root.describe()}")


@trust_group.command("update")
@click.argument("source", required=False)
def trust_update(source: str | None) -> None:
    """Move each trusted root forward to its latest successor, each step signed by the package key
    of the root before it; SOURCE (a file or a URL) defaults to where the root came from."""
    store = trust_store()
    stored = store.stored()
    if not stored:
        raise InvalidInput("no trusted roots to update")
    for entry in stored:
        where = source or entry.source
        if where is None:
            click.echo(f"{entry.root.log_origin}: no source known; give one")
            continue
        candidates = _candidates(where)
        successors = trust.successor_chain(entry.root, [root for root, _ in candidates])
        if not successors:
            _up_to_date_or_refuse(entry.root, candidates)
            continue
        newest = successors[-1]
        data = next(data for root, data in candidates if root.fingerprint == newest.fingerprint)
        store.save(data, newest, where)
        store.remove(entry)
        click.echo(
            f"{entry.root.log_origin}: {entry.root.fingerprint} -> {newest.fingerprint} "
            f"({len(successors)} signed step(s))"
        )


def _up_to_date_or_refuse(root: TrustRoot, candidates: list[tuple[TrustRoot, bytes]]) -> None:
    newest = candidates[-1][0] if candidates else None
    if newest is None or newest.fingerprint == root.fingerprint:
        click.echo(f"{root.log_origin}: up to date ({root.fingerprint})")
        return
    raise VerificationError(
        f"root {newest.fingerprint} does not replace the trusted root "
        f"{root.fingerprint} through signed steps: confirm it out of band with "
        "`lianzheng trust add --fingerprint`"
    )


def _candidates(source: str) -> list[tuple[TrustRoot, bytes]]:
    """The roots at `source`, oldest first: a portal's history, or a file of one root or a list."""
    if _is_url(source):
        base = source.removesuffix("/").removesuffix(TRUST_PATH)
        data = _fetch(f"{base}{TRUST_PATH}/history")
    else:
        data = _fetch(source)
    parsed = jsontext.loads(data, source, max_nesting=10)
    documents = parsed.get("roots", [parsed]) if isinstance(parsed, dict) else parsed
    if not isinstance(documents, list):
        raise InvalidInput(f"{source} holds neither a trust root nor a list of them")
    out = []
    for document in documents[: trust.MAX_KEYS]:
        text = json.dumps(document, ensure_ascii=False).encode()
        out.append((TrustRoot.from_document(document, source), text))
    return out


def _show(root: TrustRoot) -> None:
    click.echo(
        f"agency:      {root.agency}\nlog origin:  {root.log_origin}\n"
        f"fingerprint: {root.fingerprint}"
    )


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _fetch(source: str) -> bytes:
    """The bytes at a URL (a portal's base address means its /api/v1/trust) or in a file,
    bounded."""
    if not _is_url(source):
        path = Path(source)
        if not path.is_file():
            raise click.BadParameter(f"{source} is neither a file nor an http(s) URL")
        if path.stat().st_size > MAX_FETCH_BYTES:
            raise InvalidInput(f"{source} is larger than any trust root")
        return path.read_bytes()
    url = source if "/api/" in source else source.removesuffix("/") + TRUST_PATH
    try:
        # http(s) only, checked above
        with urllib.request.urlopen(url, timeout=15) as answer:  # noqa: S310
            data = answer.read(MAX_FETCH_BYTES + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise InvalidInput(f"cannot fetch {url}: {exc}") from None
    if len(data) > MAX_FETCH_BYTES:
        raise InvalidInput(f"{url} answered more than any trust root holds")
    return data


def _parse(data: bytes, source: str) -> TrustRoot:
    return TrustRoot.parse(data, source)


# --- the court page's registered roots of other agencies
# ------------------------------------------------


@click.group("court-roots")
def court_roots_group() -> None:
    """Other agencies' trust roots that the court page verifies against (besides this
    deployment's)."""


@court_roots_group.command("add")
@click.argument("source")
@click.option("--fingerprint", required=True, help="The fingerprint the agency gave out of band.")
@click.option(
    "--rpc", "rpc_url", default=None, help="An RPC URL of that root's chain, if not this one's."
)
@click.option("--as", "username", required=True, help="The admin registering it.")
def court_roots_add(source: str, fingerprint: str, rpc_url: str | None, username: str) -> None:
    """Register another agency's root for the court page, its fingerprint confirmed (admin)."""
    wired = services()
    root = wired.court.register(actor(wired, username), _fetch(source), fingerprint, rpc_url)
    click.echo(f"registered: {root.describe()} for log {root.log_origin!r}")


@court_roots_group.command("list")
def court_roots_list() -> None:
    """The roots the court page trusts: this deployment's, then the registered ones."""
    wired = services()
    own = wired.trust.latest()
    click.echo(f"{own.fingerprint}  {own.log_origin}  {own.agency}  (this deployment)")
    for row in wired.court.registered():
        click.echo(f"{row.fingerprint}  {row.log_origin}  {row.agency}  (added by {row.added_by})")


@court_roots_group.command("remove")
@click.argument("fingerprint")
@click.option("--as", "username", required=True, help="The admin removing it.")
def court_roots_remove(fingerprint: str, username: str) -> None:
    """Stop trusting a registered root on the court page (admin)."""
    wired = services()
    wired.court.remove(actor(wired, username), fingerprint)
    click.echo(f"removed {fingerprint}")
