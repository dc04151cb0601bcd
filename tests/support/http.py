"""Small HTTP servers for tests, served from a thread while a block runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import BaseServer

# How often a serving thread looks for a shutdown request. The standard library's 0.5 s made every
# `shutdown` wait up to half a second, and a test that serves three witnesses waited 1.5 s.
POLL_SECONDS = 0.02


@contextmanager
def in_thread(server: BaseServer) -> Iterator[int]:
    """Serve `server` (http.server's or werkzeug's) from a thread while the block runs; yields the
    port it is bound to. Shutting it down inside the block is allowed."""
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
