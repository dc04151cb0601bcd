"""Large durable files whose bytes go to the disk while they are written, not all at the fsync.

Linux keeps written pages in memory until a tenth of its memory is dirty (2.4 GiB on a 24 GiB
machine), so a 1 GiB upload would be received first and written to the disk only by the fsync
that ends it, one after the other. Every WRITE_BEHIND bytes the kernel is asked to start writing the
range just written (sync_file_range(2) with SYNC_FILE_RANGE_WRITE, which starts the write-out and
does not wait for it), so the disk works while the next bytes arrive and hashes run. Durability
still rests on the fsync alone; where sync_file_range is missing, nothing is started early and the
fsync does it all, as before.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Callable
from typing import BinaryIO

WRITE_BEHIND = 8 << 20  # bytes written between two requests to start the write-out
SYNC_FILE_RANGE_WRITE = 2  # <linux/fs.h>: start write-out of dirty pages in the range, no wait


class WriteBehind:
    """Writes to `file` (opened for binary writing, positioned at `offset`) and has what it wrote
    sent to the disk every WRITE_BEHIND bytes; `sync` makes it all durable."""

    def __init__(self, file: BinaryIO, offset: int = 0) -> None:
        self._file = file
        self._written = offset  # the file's end after the writes so far
        self._started = offset  # the write-out has been started for the bytes before this

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._written += len(chunk)
        if self._written - self._started >= WRITE_BEHIND:
            self._file.flush()  # the buffered bytes reach the kernel before it is asked to write
            start_writeout(self._file.fileno(), self._started, self._written - self._started)
            self._started = self._written

    def sync(self) -> None:
        """Everything written is on the disk (flush, fsync)."""
        self._file.flush()
        os.fsync(self._file.fileno())


def start_writeout(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing `length` bytes of `fd` from `offset` to the disk, without
    waiting; nothing happens where it cannot be asked (the fsync that follows still writes them)."""
    call = _sync_file_range()
    if call is not None:
        call(fd, offset, length, SYNC_FILE_RANGE_WRITE)  # a failure only means: later, at fsync


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """libc's sync_file_range (Linux only; Python's os module does not offer it), or None."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function
