"""The `lianzheng` command. Each command lives in a module of this package, imported only when it
runs: `lianzheng verify` (a court's machine) loads the offline verifier and nothing of the
service."""

from __future__ import annotations

import atexit
import gc
import importlib
import sys
from typing import Any

import click

from ledger.errors import LianzhengError
from verify_portal.app.settings import private_files

# Command name -> where it is defined, as "module:attribute" under verify_portal.cli.
COMMANDS = {
    "serve": "serve:serve",
    "db": "service:db_group",
    "audit": "audit:audit",
    "user": "service:user",
    "case": "cases:case",
    "evidence": "cases:evidence",
    "device": "cases:device",
    "log": "log:log_group",
    "chain": "chain:chain",
    "anchor": "chain:anchor",
    "verify": "court:verify",
    "verify-receipt": "court:verify_receipt",
    "verify-equivocation": "court:verify_equivocation",
    "witness": "witness:witness_group",
    "export": "packages:export",
    "upload": "upload:upload",
    "dock": "dock:dock",
    "trust": "trust:trust_group",
    "court-roots": "trust:court_roots_group",
    "keys": "keys:keys_group",
    "backup": "backup:backup",
    "restore": "backup:restore",
    "retention": "retention:retention_group",
}


class _Main(click.Group):
    """Loads a command's module when the command is asked for; domain errors become one clear line
    on stderr and exit code 1, not a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LianzhengError as exc:
            errors = exc.details.get("errors")
            detail = (
                "".join(f"\n  {e['field']}: {e['message']}" for e in errors)
                if isinstance(errors, list)
                else ""
            )
            click.echo(f"lianzheng: {exc.code}: {exc.message}{detail}", err=True)
            sys.exit(1)


@click.group(cls=_Main)
def main() -> None:
    """链证 Lianzheng: evidence and audit ledger for city-management law enforcement."""
    private_files()
    # Python's last garbage collection at exit walks every object the imports made: 0.3-0.5 s
    # of CPU for each command, each anchor worker and each web worker (forks of `serve`). What we
    # write is closed, and synced where it must last, before a command returns; Python does not
    # promise finalizers at exit either. Once per process, however often main() runs in it.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
