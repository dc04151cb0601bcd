"""The two digests of every evidence file (DESIGN.md: Formats, 国密 digests and signatures): SHA-256
and SM3 (GB/T 32905), computed in one read pass.

SM3 runs at about a fifth of SHA-256's speed here. Each chunk is hashed by both on two helper
threads while the caller reads or writes the next ones (hashlib releases the GIL on large
buffers), so a file costs about its slower hash, not the sum; a small chunk is hashed at once,
where a thread would cost more than it saves.
"""

from __future__ import annotations

import hashlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

THREADED_FROM = 256 << 10  # chunks at least this large are hashed on the helper threads
IN_FLIGHT = 4  # chunks handed to the threads and not hashed yet, at most


@dataclass(frozen=True)
class Digested:
    sha256: str  # lowercase hex
    sm3: str  # lowercase hex


def sm3() -> Any:
    """A new SM3 hash object (OpenSSL's, through hashlib)."""
    return hashlib.new("sm3")


class Digests:
    """SHA-256 and SM3 of one stream, fed chunk by chunk in order."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.sm3 = sm3()
        # One thread per hash keeps each hash's chunks in order; up to IN_FLIGHT chunks may wait
        # for them, so a slow moment of SM3 does not stall the writer (memory: IN_FLIGHT chunks).
        self._threads: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None
        self._pending: deque[Future[None]] = deque()

    def update(self, chunk: bytes) -> None:
        if len(chunk) < THREADED_FROM and not self._pending:
            self.sha256.update(chunk)
            self.sm3.update(chunk)
            return
        if self._threads is None:
            self._threads = (
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256"),
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="sm3"),
            )
        while len(self._pending) >= 2 * IN_FLIGHT:
            self._pending.popleft().result()
        self._pending.append(self._threads[0].submit(self.sha256.update, chunk))
        self._pending.append(self._threads[1].submit(self.sm3.update, chunk))

    def result(self) -> Digested:
        """Both digests of everything fed; the helper threads end."""
        self._wait()
        self.close()
        return Digested(self.sha256.hexdigest(), self.sm3.hexdigest())

    def close(self) -> None:
        if self._threads is not None:
            for thread in self._threads:
                thread.shutdown(cancel_futures=True)
            self._threads = None

    def _wait(self) -> None:
        while self._pending:
            self._pending.popleft().result()
