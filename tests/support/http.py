"""Small HTTP servers for tests, served from a thread while a block runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import HTTPServer


@contextmanager
def in_thread(server: HTTPServer) -> Iterator[int]:
    """Serve `server` from a thread while the block runs; yields the port it is bound to."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
