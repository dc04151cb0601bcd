"""The witness's HTTP front (C2SP tlog-witness): the standard library's threading server, since the
protocol is two plain-text routes and a witness must run where nothing else of Lianzheng does.

    POST /add-checkpoint                 cosign a checkpoint (text/plain note signature lines)
    GET  /<origin hash>/checkpoint       the checkpoint last cosigned, with both signatures
    GET  /equivocations                  the split views this witness was shown (JSON list)
    GET  /equivocations/<id>             one of them, as a record `verify-equivocation` checks
    GET  /                               the witness's name and public key (JSON)
"""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ledger.bounds import whole_number
from ledger.errors import InvalidInput, LianzhengError, NotFound
from ledger.witness import Witness
from ledger.witness_protocol import (
    MAX_REQUEST_BYTES,
    SIZE_CONTENT_TYPE,
    OldSizeConflict,
    WitnessRefused,
    origin_hash,
)

log = logging.getLogger(__name__)
TIMEOUT = 30.0  # seconds a client may take to send its request


def make_server(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    """A server for `witness` bound to `host:port` (port 0: one the kernel picks)."""

    class Handler(_Handler):
        pass

    Handler.witness = witness
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


class _Handler(BaseHTTPRequestHandler):
    witness: Witness
    server_version = "lianzheng-witness"
    protocol_version = "HTTP/1.1"  # keep-alive, as tlog-witness recommends
    # Headers and body leave in two writes: without TCP_NODELAY the body waits for the client's
    # delayed ACK (40 ms on Linux) on every kept-alive request.
    disable_nagle_algorithm = True
    timeout = TIMEOUT

    def do_POST(self) -> None:
        if self.path != "/add-checkpoint":
            return self._send(404, "text/plain", "no such route\n")
        try:
            length = whole_number(self.headers.get("Content-Length", ""), "Content-Length")
        except InvalidInput:
            return self._send(411, "text/plain", "a Content-Length is required\n")
        if length > 2 * MAX_REQUEST_BYTES:
            self.close_connection = True
            return self._send(413, "text/plain", f"at most {MAX_REQUEST_BYTES} bytes\n")
        body = self.rfile.read(length)
        try:
            line = self.witness.add_checkpoint(body)
        except OldSizeConflict as refusal:
            return self._send(409, SIZE_CONTENT_TYPE, f"{refusal.stored_size}\n")
        except WitnessRefused as refusal:
            return self._send(refusal.status, "text/plain", refusal.message + "\n")
        self._send(200, "text/plain; charset=utf-8", line)

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        try:
            if parts == [""]:
                return self._json(self.witness.identity.to_json())
            if parts == ["equivocations"]:
                return self._json(self.witness.store.equivocations())
            if len(parts) == 2 and parts[0] == "equivocations":
                number = whole_number(parts[1], "an equivocation's number")
                return self._json(self.witness.store.equivocation(number, self.witness.name))
            if len(parts) == 2 and parts[1] == "checkpoint":
                return self._checkpoint(parts[0])
        except InvalidInput as exc:
            return self._send(400, "text/plain", exc.message + "\n")
        except LianzhengError as exc:
            return self._send(404, "text/plain", exc.message + "\n")
        self._send(404, "text/plain", "no such route\n")

    def _checkpoint(self, wanted: str) -> None:
        for origin in self.witness.store.origins():
            if origin_hash(origin) == wanted:
                note = self.witness.store.cosigned_note(origin)
                if note is not None:
                    return self._send(200, "text/plain; charset=utf-8", note)
        raise NotFound("this witness has cosigned no checkpoint of that log")

    def _json(self, value: Any) -> None:
        self._send(200, "application/json", json.dumps(value, ensure_ascii=False, indent=1))

    def _send(self, status: int, content_type: str, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's signature
        log.info("%s %s", self.address_string(), format % args)
