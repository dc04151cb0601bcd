"""The resumable-upload client (evidence/tus_client.py) against a server that answers nonsense:
a clear UploadFailed, never a crash or a loop that sends the same chunk forever."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evidence.tus_client import TusClient, UploadFailed


@contextmanager
def _answering(offset: bytes) -> Iterator[tuple[str, list[str]]]:
    """A server whose every HEAD and PATCH answers Upload-Offset `offset` (raw header bytes)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int) -> None:
            seen.append(self.command)
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.wfile.write(b"HTTP/1.0 %d Answered\r\nUpload-Offset: %s\r\n" % (status, offset))
            self.wfile.write(b"Content-Length: 0\r\n\r\n")

        def do_HEAD(self) -> None:
            self._answer(200)

        def do_PATCH(self) -> None:
            self._answer(204)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/uploads/1", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("offset", [b"\xb2", b"9" * 5000, b"-1", b""])
def test_an_offset_that_is_no_whole_number_fails_the_upload_naming_the_header(offset, tmp_path):
    with _answering(offset) as (url, _):
        with pytest.raises(UploadFailed, match="the server's Upload-Offset must be a whole number"):
            TusClient(url, "token").status(url)


@pytest.mark.parametrize("offset", [b"0", b"3", b"11"])
def test_a_patch_answered_without_progress_or_past_the_end_fails_after_one_chunk(offset, tmp_path):
    file = tmp_path / "clip"
    file.write_bytes(b"x" * 10)
    with _answering(offset) as (url, seen):
        with pytest.raises(UploadFailed, match=rf"answered Upload-Offset {offset.decode()} to a"):
            TusClient(url, "token").send(url, file, 3, 10, checksums=False)
    assert seen == ["PATCH"]


def test_a_resumed_upload_the_server_holds_whole_ends_with_one_empty_patch(tmp_path):
    file = tmp_path / "clip"
    file.write_bytes(b"x" * 10)
    with _answering(b"10") as (url, seen):
        TusClient(url, "token").send(url, file, 10, 10, checksums=False)
    assert seen == ["PATCH"]
