"""`lianzheng witness`: the witness a court, a notary office (公证处) or a 司法局 runs beside no
other part of Lianzheng (DESIGN.md: Witnesses). Its state is one folder: key, name, SQLite file."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import click

from ledger import witness
from ledger.errors import ConfigurationError
from ledger.processes import stop_on_signals
from ledger.witness_http import make_server

FOLDER = click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("witness"),
    show_default=True,
    help="The witness's folder: its key, name and database.",
)


@click.group("witness")
def witness_group() -> None:
    """Run an independent witness that cosigns a log's checkpoints (C2SP tlog-witness)."""


@witness_group.command("init")
@FOLDER
@click.option("--name", required=True, help="The witness's name, e.g. court.example/witness-1.")
def witness_init(folder: Path, name: str) -> None:
    """Make the witness's Ed25519 key (mode 0600) and print its trust-root entry."""
    identity = witness.init(folder, name)
    click.echo(json.dumps(identity.to_json(), ensure_ascii=False))
    click.echo(
        f"witness {name} made in {folder}; give the line above to the log operator "
        "(it goes in their LIANZHENG_WITNESSES file with this witness's URL)",
        err=True,
    )


@witness_group.command("add-log")
@FOLDER
@click.argument("origin")
@click.argument("public_key")
def witness_add_log(folder: Path, origin: str, public_key: str) -> None:
    """Cosign checkpoints of ORIGIN signed by PUBLIC_KEY (hex of the 32 raw Ed25519 bytes, as
    the log's GET /api/v1/log/publickey and its trust root give it: confirm it on paper)."""
    try:
        raw = bytes.fromhex(public_key)
    except ValueError:
        raise click.UsageError("PUBLIC_KEY must be hex") from None
    if len(raw) != 32 or not origin or any(c.isspace() for c in origin):
        raise click.UsageError("an origin without spaces and a 32-byte Ed25519 key, in hex")
    opened = witness.Witness.open(folder)
    opened.store.add_log(origin, raw)
    click.echo(f"{opened.name} now witnesses {origin} (key {public_key[:16]}…)")


@witness_group.command("serve")
@FOLDER
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8420, show_default=True)
def witness_serve(folder: Path, host: str, port: int) -> None:
    """Serve add-checkpoint, the cosigned checkpoints and the equivocation records."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    opened = witness.Witness.open(folder, _fault_from_env())
    try:
        server = make_server(opened, host, port)
    except OSError as exc:
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    stop = stop_on_signals()
    serving = threading.Thread(target=server.serve_forever, name="witness-http")
    serving.start()
    bound = server.server_address[1]
    click.echo(f"witness {opened.name} listening on http://{host}:{bound}", err=True)
    stop.wait()
    server.shutdown()  # from this thread, never from a signal handler: it waits for the loop
    serving.join()
    server.server_close()
    opened.store.close()


def _fault_from_env() -> Callable[[str], None]:
    """Fault injection for the crash tests only: LIANZHENG_WITNESS_FAULT=kill-after-commit makes
    the witness SIGKILL itself once a checkpoint is held, before it answers."""
    if os.environ.get("LIANZHENG_WITNESS_FAULT") != "kill-after-commit":
        return lambda step: None

    def kill(step: str) -> None:
        if step == "after_commit":
            os.kill(os.getpid(), signal.SIGKILL)

    return kill
