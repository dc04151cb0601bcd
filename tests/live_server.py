"""The app on a real socket (werkzeug's threaded server) for clients that speak HTTP themselves:
tuspy, raw sockets that cut a connection half way."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.support.http import in_thread


@pytest.fixture
def live_url(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with in_thread(make_server("127.0.0.1", 0, app, threaded=True)) as port:
        yield f"http://127.0.0.1:{port}"


def send_and_cut(url: str, head: str, body: bytes) -> bytes:
    """Send a request head and part of its body, then close the sending side; the server's
    answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head.encode() + body)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer
