"""A tus 1.0 client (creation, checksum) for the service's resumable uploads: what `lianzheng
upload` and the docking station (`evidence/dock.py`) both speak.

A PATCH is safe to retry: the server answers only at the offset it holds, so a chunk sent twice is
refused rather than stored twice.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from evidence.meta import encode_upload_metadata
from ledger.bounds import whole_number
from ledger.errors import InvalidInput, LianzhengError

CHUNK = 8 << 20
RETRIES = 5
TUS = {"Tus-Resumable": "1.0.0"}


class UploadFailed(LianzhengError):
    code = "upload-failed"


class Unreachable(UploadFailed):
    """The server could not be reached after every retry: nothing is known to have arrived."""


@dataclass(frozen=True)
class Sent:
    """What the server answered once the last byte arrived."""

    evidence_id: str
    leaf_index: int


class TusClient:
    def __init__(self, base: str, token: str, retries: int = RETRIES) -> None:
        self.base = base.rstrip("/")
        self.retries = retries
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", **TUS})

    def create(self, size: int, pairs: dict[str, str]) -> str:
        """A new upload's URL; the metadata is checked by the server before any byte is sent."""
        created = self.request(
            "POST",
            f"{self.base}/api/v1/evidence/uploads",
            headers={"Upload-Length": str(size), "Upload-Metadata": encode_upload_metadata(pairs)},
        )
        raise_for_problem(created, 201)
        return self.base + created.headers["Location"]

    def status(self, url: str) -> tuple[int, str | None] | None:
        """The offset the server holds and the evidence id once registered; None when the upload
        is unknown (expired, or never created)."""
        head = self.request("HEAD", url)
        if head.status_code != 200:
            return None
        return _header_number(head, "Upload-Offset"), head.headers.get("Lianzheng-Evidence-Id")

    def send(
        self,
        url: str,
        file: Path,
        offset: int,
        size: int,
        progress: Callable[[int], None] = lambda _: None,
        checksums: bool = True,
    ) -> Sent:
        """Send `file` from `offset` to its end; `progress` is told each byte count acknowledged.
        Without `checksums` the chunks carry no SHA-256 of their own: for an upload whose
        metadata names the whole file's hash, which the server checks at the end anyway."""
        with open(file, "rb") as f:
            while True:
                f.seek(offset)
                answer = self.send_chunk(url, offset, f.read(CHUNK), checksums)
                raise_for_problem(answer, 204)
                new_offset = _header_number(answer, "Upload-Offset")
                # Without progress the same chunk would be sent forever; an empty PATCH at the end
                # (a resumed upload the server already holds whole) makes none and needs none.
                if not (offset < new_offset <= size or offset == new_offset == size):
                    raise UploadFailed(
                        f"the server answered Upload-Offset {new_offset} to a chunk sent at "
                        f"{offset} of {size} bytes"
                    )
                progress(new_offset - offset)
                offset = new_offset
                if offset >= size:
                    return Sent(
                        answer.headers.get("Lianzheng-Evidence-Id", ""),
                        _header_number(answer, "Lianzheng-Leaf-Index", absent=-1),
                    )

    def send_chunk(
        self, url: str, offset: int, chunk: bytes, checksum: bool = True
    ) -> requests.Response:
        """One PATCH, with the chunk's SHA-256 for the server to check (tus checksum extension)."""
        headers = {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        if checksum:
            digest = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
            headers["Upload-Checksum"] = f"sha256 {digest}"
        return self.request("PATCH", url, data=chunk, headers=headers)

    def get_json(self, path: str) -> tuple[int, Any]:
        """A GET of the API: its status and JSON body (None when it has none)."""
        answer = self.request("GET", self.base + path)
        try:
            return answer.status_code, answer.json()
        except ValueError:
            return answer.status_code, None

    def post_json(self, path: str, body: dict[str, Any], expected: int) -> Any:
        answer = self.request("POST", self.base + path, json=body)
        raise_for_problem(answer, expected)
        return answer.json()

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """A request retried with backoff while the network fails."""
        for attempt in range(self.retries):
            try:
                return self.session.request(method, url, timeout=120, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == self.retries - 1:
                    raise Unreachable(
                        f"the server at {url} cannot be reached ({type(exc).__name__}); run the "
                        "same command again to resume"
                    ) from None
                time.sleep(min(2**attempt, 8))
        raise AssertionError("unreachable")


def _header_number(answer: requests.Response, name: str, absent: int | None = None) -> int:
    """The whole number the server put in header `name` (`absent` where it put none, if given);
    UploadFailed if it is not one."""
    text = answer.headers.get(name)
    if text is None and absent is not None:
        return absent
    try:
        return whole_number(text or "", f"the server's {name}")
    except InvalidInput as exc:
        raise UploadFailed(exc.message) from None


def raise_for_problem(answer: requests.Response, expected: int) -> None:
    """UploadFailed naming the server's problem detail unless the status is `expected`."""
    if answer.status_code == expected:
        return
    try:
        detail = answer.json().get("detail", answer.text)
    except ValueError:
        detail = answer.text[:200]
    raise UploadFailed(f"the server refused the upload ({answer.status_code}): {detail}")
