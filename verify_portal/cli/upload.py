"""`lianzheng upload`: send a file to a running service as evidence, by tus, resuming after
interruption.

The upload's URL is remembered in the client state folder under the file's
identity (path, size, modification time, SHA-256), so running the same
command again after a dropped network or a Ctrl-C continues from the byte the
server holds instead of starting over.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from evidence.tus_client import TusClient
from ledger.errors import InvalidInput
from verify_portal.app.settings import Settings

HASH_CHUNK = 8 << 20


@click.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--case", "case_no", required=True, help="The case number, e.g. CG-2026-000001.")
@click.option("--device", default=None, help="Serial of the bodycam or camera that recorded it.")
@click.option(
    "--captured-at",
    default=None,
    help="RFC 3339 capture time (default: the file's modification time).",
)
@click.option("--gps", default=None, help="Where it was captured: latitude,longitude.")
@click.option(
    "--server",
    default=None,
    help="The service's URL (default LIANZHENG_SERVER or http://127.0.0.1:8000).",
)
def upload(
    file: Path,
    case_no: str,
    device: str | None,
    captured_at: str | None,
    gps: str | None,
    server: str | None,
) -> None:
    """Upload FILE as evidence of a case, with a progress bar; run it again to resume an interrupted
    upload.

    The bearer token comes from LIANZHENG_TOKEN.
    """
    settings = Settings.from_env()
    token = settings.client.token
    if not token:
        raise InvalidInput(
            "set LIANZHENG_TOKEN to your bearer token (lianzheng user add prints one)"
        )
    base = (server or settings.client.server).rstrip("/")
    stat = file.stat()
    digest = _sha256(file, stat.st_size)
    captured = captured_at or datetime.fromtimestamp(stat.st_mtime, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    pairs = {"case_no": case_no, "captured_at": captured, "sha256": digest, "filename": file.name}
    pairs |= {k: v for k, v in (("device", device), ("gps", gps)) if v}
    state = _State(settings.client.state_dir / "uploads.json")
    key = f"{base}|{file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{digest}"
    client = TusClient(base, token)
    url, offset = _resume_or_create(client, state, key, stat.st_size, pairs)
    with click.progressbar(length=stat.st_size, label="uploading", file=sys.stderr) as bar:
        bar.update(offset)
        sent = client.send(url, file, offset, stat.st_size, bar.update)
    state.forget(key)
    result = {"evidence_id": sent.evidence_id, "leaf_index": sent.leaf_index}
    click.echo(json.dumps({**result, "bytes": stat.st_size}, ensure_ascii=False))


def _sha256(file: Path, size: int) -> str:
    digest = hashlib.sha256()
    with (
        open(file, "rb") as f,
        click.progressbar(length=size, label="hashing  ", file=sys.stderr) as bar,
    ):
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _resume_or_create(
    client: TusClient, state: _State, key: str, size: int, pairs: dict[str, str]
) -> tuple[str, int]:
    known = state.get(key)
    if known:
        status = client.status(known)
        if status is not None:
            click.echo(f"resuming at byte {status[0]:,} of {size:,}", err=True)
            return known, status[0]
        state.forget(key)  # expired or finished meanwhile: start over
    url = client.create(size, pairs)
    state.remember(key, url)
    return url, 0


class _State:
    """Upload URLs by file identity, in a small JSON file of the user's."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def get(self, key: str) -> str | None:
        return self._load().get(key)

    def remember(self, key: str, url: str) -> None:
        self._save({**self._load(), key: url})

    def forget(self, key: str) -> None:
        entries = self._load()
        entries.pop(key, None)
        self._save(entries)

    def _save(self, entries: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=1))
        os.replace(tmp, self.path)
