"""A real RFC 3161 time-stamping authority for tests: `openssl ts -reply` with a test CA of its
own, behind a small HTTP handler (POST application/timestamp-query)."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.http import in_thread

_CONFIG = """
[ tsa ]
default_tsa = test_tsa

[ test_tsa ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/ca.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256

[ tsa_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
"""


class TestAuthority:
    """A CA, a time-stamping certificate it issued, and the OpenSSL config that signs with it."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, folder: Path, name: str = "Test TSA") -> None:
        self.dir = folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "serial").write_text("01\n")
        (folder / "tsa.cnf").write_text(_CONFIG.format(dir=folder))
        self._openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650", "-subj", f"/CN={name} CA",
        )  # fmt: skip
        self._openssl(
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name}",
        )  # fmt: skip
        self._openssl(
            "x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "tsa.crt", "-days", "3650",
            "-extfile", "tsa.cnf", "-extensions", "tsa_ext",
        )  # fmt: skip

    @property
    def chain_pem(self) -> str:
        """What a trust root's `tsa` holds: the authority's certificate and its CA's."""
        return (self.dir / "tsa.crt").read_text() + (self.dir / "ca.crt").read_text()

    def reply(self, query: bytes) -> bytes:
        """A TimeStampResp to `query`, signed by the authority."""
        with tempfile.TemporaryDirectory(dir=self.dir) as tmp:
            (Path(tmp) / "query.tsq").write_bytes(query)
            self._openssl(
                "ts", "-reply", "-config", "tsa.cnf", "-queryfile", f"{tmp}/query.tsq",
                "-out", f"{tmp}/reply.tsr",
            )  # fmt: skip
            return (Path(tmp) / "reply.tsr").read_bytes()

    def openssl_verify(self, data: Path, token: Path) -> subprocess.CompletedProcess[str]:
        """`openssl ts -verify` of a token over `data`, trusting this authority's CA."""
        return subprocess.run(
            ["openssl", "ts", "-verify", "-data", str(data), "-in", str(token), "-token_in",
             "-CAfile", str(self.dir / "ca.crt"), "-untrusted", str(self.dir / "tsa.crt")],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    def _openssl(self, *args: str) -> None:
        done = subprocess.run(
            ["openssl", *args], cwd=self.dir, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr


@contextmanager
def serving(authority: TestAuthority) -> Iterator[str]:
    """The authority over HTTP on 127.0.0.1 while the block runs; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            answer = authority.reply(query)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    with in_thread(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as port:
        yield f"http://127.0.0.1:{port}/tsa"
