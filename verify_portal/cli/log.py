"""`lianzheng log`: the public log's checkpoint, proofs and receipts."""

from __future__ import annotations

import click

from verify_portal.app import anchored
from verify_portal.cli.common import print_json, services


@click.group("log")
def log_group() -> None:
    """The public log: checkpoint and proofs."""


@log_group.command("checkpoint")
def log_checkpoint() -> None:
    """Print the latest signed checkpoint."""
    wired = services()
    with wired.sessions() as session:
        click.echo(wired.store.checkpoint(session).note, nl=False)


@log_group.command("inclusion")
@click.argument("index", type=int)
@click.option("--size", type=int, default=None, help="Tree size (default: latest checkpoint).")
def log_inclusion(index: int, size: int | None) -> None:
    """Inclusion proof of leaf INDEX."""
    wired = services()
    with wired.sessions() as session:
        print_json(wired.store.inclusion_proof(session, index, size).to_json())


@log_group.command("receipt")
@click.argument("index", type=int)
def log_receipt(index: int) -> None:
    """The receipt of leaf INDEX to the newest anchor (save it; check it with verify-receipt)."""
    print_json(anchored.receipt_of_leaf(services(), index))


@log_group.command("consistency")
@click.argument("size1", type=int)
@click.argument("size2", type=int, required=False)
def log_consistency(size1: int, size2: int | None) -> None:
    """Consistency proof from SIZE1 to SIZE2 (default: latest checkpoint)."""
    wired = services()
    with wired.sessions() as session:
        print_json(wired.store.consistency_proof(session, size1, size2).to_json())
