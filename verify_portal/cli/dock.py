"""`lianzheng dock`: the docking station agent (evidence/dock.py) on the station's PC."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from evidence.dock import Dock
from evidence.tus_client import RETRIES, TusClient
from ledger.errors import InvalidInput
from verify_portal.app.settings import Settings


@click.command("dock")
@click.option(
    "--watch",
    "watch",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The folder where recorders appear, one sub-folder each.",
)
@click.option(
    "--staging",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The station's local staging folder (emptied as the server confirms).",
)
@click.option(
    "--reports",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where each shift's ingest report is written.",
)
@click.option("--server", default=None, help="The service's URL (default LIANZHENG_SERVER).")
@click.option("--parallel", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option("--once", is_flag=True, help="Ingest the recorders present now, report, and exit.")
@click.option("--poll", default=2.0, show_default=True, type=click.FloatRange(0.1, 60))
@click.option("--retries", default=RETRIES, show_default=True, type=click.IntRange(1, 20))
def dock(
    watch: Path,
    staging: Path,
    reports: Path,
    server: str | None,
    parallel: int,
    once: bool,
    poll: float,
    retries: int,
) -> None:
    """Ingest bodycams put into the docking station: copy, upload, confirm, then wipe each
    recording; a per-shift report is written and logged. The station's token (a system account)
    comes from LIANZHENG_TOKEN. With --once the exit code is 0 when every recording was confirmed
    and wiped, 1 when any was kept or a recorder refused."""
    settings = Settings.from_env()
    token = settings.client.token
    if not token:
        raise InvalidInput("set LIANZHENG_TOKEN to the station's bearer token (a system account)")
    client = TusClient(server or settings.client.server, token, retries)
    station = Dock(
        client, watch, staging, reports, lambda line: click.echo(line, err=True), parallel
    )
    station.log_reports()  # a report the server missed at the last shift's end
    if once:
        summary = station.run_once()
        click.echo(_summary_line(summary))
        sys.exit(0 if summary["kept"] == 0 and summary["refused"] == 0 else 1)
    stop = threading.Event()

    def stop_on(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stop_on)
    signal.signal(signal.SIGINT, stop_on)
    click.echo(f"watching {watch} for recorders; Ctrl-C to stop", err=True)
    station.watch_forever(stop, poll)


def _summary_line(summary: dict[str, int]) -> str:
    return (
        f"{summary['files']} recording(s) confirmed and wiped from {summary['recorders']} "
        f"recorder(s), {summary['bytes']:,} bytes; {summary['kept']} kept on their recorders; "
        f"{summary['refused']} recorder(s) refused"
    )
