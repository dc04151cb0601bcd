"""`lianzheng keys init`: the secret files the production stack reads (docker-compose.yml
`secrets:`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import click
from eth_account import Account

from ledger import keys, sm2, trust
from ledger.errors import ConfigurationError
from verify_portal.app.settings import (
    ANCHOR_KEYSTORE_NAME,
    CHECKPOINT_KEY_NAME,
    CHECKPOINT_SM2_KEY_NAME,
    PACKAGE_KEY_NAME,
    PACKAGE_SM2_KEY_NAME,
    PARTY_SECRET_NAME,
)
from verify_portal.app.trust import KINDS
from verify_portal.cli.common import services

SM2_FILES = (CHECKPOINT_SM2_KEY_NAME, PACKAGE_SM2_KEY_NAME)
# The files docker-compose.yml's `secrets:` section points at.
SECRET_FILES = (
    CHECKPOINT_KEY_NAME,
    PARTY_SECRET_NAME,
    PACKAGE_KEY_NAME,
    ANCHOR_KEYSTORE_NAME,
    *SM2_FILES,
)


@click.group("keys")
def keys_group() -> None:
    """The deployment's secret files."""


def _directory(help_text: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return click.option(
        "--dir",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("secrets"),
        show_default=True,
        help=help_text,
    )


@keys_group.command("init")
@_directory("Where to write them (docker-compose.yml reads ./secrets).")
@click.password_option(
    "--password",
    envvar="LIANZHENG_ANCHOR_KEYSTORE_PASSWORD",
    help="The anchor keystore's password (LIANZHENG_ANCHOR_KEYSTORE_PASSWORD; asked twice "
    "when not given).",
)
@click.option(
    "--uid",
    type=int,
    default=None,
    help="Owner of the files, e.g. 10001 for the image's `lianzheng` user (needs root).",
)
def keys_init(directory: Path, password: str, uid: int | None) -> None:
    """Create the checkpoint keys, party secret, package keys and anchor keystore, mode 0600.

    The checkpoint and package keys are each an Ed25519 key and an SM2 key (国密) beside it.

    Refuses when any of them exists: a replaced checkpoint key would orphan every
    signed checkpoint, a replaced party secret every sealed record.
    """
    present = [name for name in SECRET_FILES if (directory / name).exists()]
    if present:
        raise ConfigurationError(
            f"{directory} already holds {', '.join(present)}; keys are never overwritten"
        )
    if len(password) < 12:
        raise click.BadParameter("use at least 12 characters", param_hint="--password")
    checkpoint_pem, package_pem = keys.new_ed25519_pem(), keys.new_ed25519_pem()
    anchor = Account.create()
    contents = {
        CHECKPOINT_KEY_NAME: checkpoint_pem,
        PARTY_SECRET_NAME: os.urandom(32),
        PACKAGE_KEY_NAME: package_pem,
        ANCHOR_KEYSTORE_NAME: json.dumps(Account.encrypt(anchor.key, password)).encode(),
        **_sm2_keys(),
    }
    _write(directory, contents, uid)
    click.echo(f"wrote {', '.join(SECRET_FILES)} to {directory} (mode 0600)")
    click.echo(
        f"anchor account: {anchor.address}  (fund it; the contract's owner must addAnchorer it)"
    )
    package = (
        keys.ed25519_key(directory / PACKAGE_KEY_NAME, create=False).public_key().public_bytes_raw()
    )
    click.echo(
        f"package key {trust.package_key_id(package)}; once the stack runs, `lianzheng trust "
        f"export` "
        "gives courts the trust root and `lianzheng trust fingerprint` the fingerprint to print"
    )


@keys_group.command("add-sm2")
@_directory("The folder `keys init` wrote before SM2 keys were part of it.")
@click.option("--uid", type=int, default=None, help="Owner of the files (needs root).")
def keys_add_sm2(directory: Path, uid: int | None) -> None:
    """Add the SM2 checkpoint and package keys to a deployment made before 国密 signatures.

    At the next start the service publishes a trust root that lists them, signed by the old
    root's package key: checkpoints and packages from then on carry SM2 signatures too.
    """
    present = [name for name in SM2_FILES if (directory / name).exists()]
    if present:
        raise ConfigurationError(f"{directory} already holds {', '.join(present)}")
    _write(directory, _sm2_keys(), uid)
    click.echo(f"wrote {', '.join(SM2_FILES)} to {directory} (mode 0600)")


def _sm2_keys() -> dict[str, bytes]:
    return {name: sm2.pem_of(sm2.generate()) for name in SM2_FILES}


def _write(directory: Path, contents: dict[str, bytes], uid: int | None) -> None:
    for name, content in contents.items():
        keys.write_new(directory / name, content)
        if uid is not None:
            os.chown(directory / name, uid, -1)


@keys_group.command("rotate")
@click.argument("kind", type=click.Choice(KINDS))
def keys_rotate(kind: str) -> None:
    """Sign with a new KIND key from now on; the old one keeps verifying what it signed.

    The new key is written beside the configured one; the trust root that lists both (with the sizes
    or times each covers) is published at once, signed by the old root's package key, so courts move
    forward with `lianzheng trust update`.
    """
    root = services().trust.rotate(kind)
    click.echo(f"rotated the {kind} key; new trust root {root.fingerprint}")
