"""`lianzheng upload`: send a file to a running service as evidence, by tus, resuming after
interruption.

The upload's URL is remembered in the client state folder under the file's
identity (path, size, modification time, SHA-256), so running the same
command again after a dropped network or a Ctrl-C continues from the byte the
server holds instead of starting over.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import requests

from evidence.meta import encode_upload_metadata
from ledger.errors import InvalidInput, LianzhengError
from verify_portal.app.settings import Settings

CHUNK = 8 << 20
RETRIES = 5
TUS = {"Tus-Resumable": "1.0.0"}


class UploadFailed(LianzhengError):
    code = "upload-failed"


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
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", **TUS})
    url, offset = _resume_or_create(session, base, state, key, stat.st_size, pairs)
    result = _send(session, url, file, offset, stat.st_size)
    state.forget(key)
    click.echo(json.dumps(result, ensure_ascii=False))


def _sha256(file: Path, size: int) -> str:
    digest = hashlib.sha256()
    with (
        open(file, "rb") as f,
        click.progressbar(length=size, label="hashing  ", file=sys.stderr) as bar,
    ):
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _resume_or_create(
    session: requests.Session, base: str, state: _State, key: str, size: int, pairs: dict[str, str]
) -> tuple[str, int]:
    known = state.get(key)
    if known:
        head = _request(session, "HEAD", known)
        if head.status_code == 200:
            offset = int(head.headers["Upload-Offset"])
            click.echo(f"resuming at byte {offset:,} of {size:,}", err=True)
            return known, offset
        state.forget(key)  # expired or finished meanwhile: start over
    created = _request(
        session,
        "POST",
        f"{base}/api/v1/evidence/uploads",
        headers={"Upload-Length": str(size), "Upload-Metadata": encode_upload_metadata(pairs)},
    )
    _raise_for_problem(created, 201)
    url = base + created.headers["Location"]
    state.remember(key, url)
    return url, 0


def _send(
    session: requests.Session, url: str, file: Path, offset: int, size: int
) -> dict[str, Any]:
    with (
        open(file, "rb") as f,
        click.progressbar(length=size, label="uploading", file=sys.stderr) as bar,
    ):
        bar.update(offset)
        while True:
            f.seek(offset)
            chunk = f.read(CHUNK)
            answer = send_chunk(session, url, offset, chunk)
            _raise_for_problem(answer, 204)
            new_offset = int(answer.headers["Upload-Offset"])
            bar.update(new_offset - offset)
            offset = new_offset
            if offset >= size:
                return {
                    "evidence_id": answer.headers.get("Lianzheng-Evidence-Id"),
                    "leaf_index": int(answer.headers.get("Lianzheng-Leaf-Index", -1)),
                    "bytes": size,
                }


def send_chunk(session: requests.Session, url: str, offset: int, chunk: bytes) -> requests.Response:
    """One PATCH, with the chunk's SHA-256 for the server to check (tus checksum extension)."""
    checksum = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
    return _request(
        session,
        "PATCH",
        url,
        data=chunk,
        headers={
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": f"sha256 {checksum}",
        },
    )


def _request(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
    """A request retried with backoff while the network fails; a PATCH is safe to retry (the offset
    guards it)."""
    for attempt in range(RETRIES):
        try:
            return session.request(method, url, timeout=120, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            if attempt == RETRIES - 1:
                raise UploadFailed(
                    f"the server at {url} cannot be reached ({type(exc).__name__}); run the same "
                    "command again to resume"
                ) from None
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


def _raise_for_problem(answer: requests.Response, expected: int) -> None:
    if answer.status_code == expected:
        return
    try:
        detail = answer.json().get("detail", answer.text)
    except ValueError:
        detail = answer.text[:200]
    raise UploadFailed(f"the server refused the upload ({answer.status_code}): {detail}")


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
