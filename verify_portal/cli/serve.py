"""`lianzheng serve`: the service with its local chain and anchor worker, under gunicorn. Apart
from the other commands, which need neither gunicorn nor web3 and start a second sooner."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import replace

import click

from verify_portal.app import anchor_target, witnessing
from verify_portal.app.settings import Settings
from verify_portal.cli.common import services
from verify_portal.web import logs
from verify_portal.web.server import run


@click.command()
@click.option(
    "--host", default=None, help="Interface to listen on (default LIANZHENG_HOST or 127.0.0.1)."
)
@click.option("--port", default=None, type=int, help="Port (default LIANZHENG_PORT or 8000).")
@click.option(
    "--workers", default=None, type=int, help="Worker processes (default LIANZHENG_WORKERS or 2)."
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Migrate, create keys on first start, start the local chain and anchor worker, serve under
    gunicorn.

    With LIANZHENG_RPC_URL set (production) the anchor worker runs apart: `lianzheng anchor run`.
    """
    # the master's own lines (the chain, the anchor worker's supervisor) beside gunicorn's
    logs.configure()
    wired = services()
    settings = wired.settings
    wired.evidence.blobs.sweep_stale()  # half-written files of a killed predecessor: never blobs
    wired.uploads.sweep()  # resumable uploads past their expiry
    with ExitStack() as stack:
        if os.environ.get("LIANZHENG_DEMO_WITNESS") == "1" and not settings.witnesses.file:
            demo_port = int(os.environ.get("LIANZHENG_DEMO_WITNESS_PORT", "8421"))
            stack.enter_context(witnessing.demo_witness(wired, demo_port))
            settings = Settings.from_env()  # now naming the demo witness
        stack.enter_context(anchor_target.serving_chain(settings))
        # A root that says what changed since the last start (new SM2 keys, witnesses, the chain).
        replace(wired.trust, settings=settings).publish()
        wired.engine.dispose()  # the workers open their own connections after fork
        run(host or settings.web.host, port or settings.web.port, workers or settings.web.workers)
