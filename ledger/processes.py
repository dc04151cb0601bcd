"""Small operating-system helpers that several domains need: processes, their ends, file locks."""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when the thread that started it ends


def running(pid: int) -> bool:
    """Whether process `pid` runs. A zombie (dead, not yet reaped, as under an init that never reaps) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): the signal answer stands
    return state != "Z"


def dies_with(parent: int) -> Callable[[], None]:
    """A `preexec_fn` for a child that must end with the process `parent` (Linux: SIGTERM on the parent's
    death, so anvil saves its state and the anchor worker leaves its lock); a child whose parent died
    before it could ask exits at once."""

    # Looked up before the fork, so the child only makes the call; absent outside Linux, where the child
    # outlives a killed parent as before.
    prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)

    def arm() -> None:
        if prctl is None or prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            return
        if os.getppid() != parent:
            os._exit(1)

    return arm


def wait_for_exit(process: subprocess.Popen[bytes], stop: threading.Event, every: float = 0.5) -> int | None:
    """Wait until `process` ends (or `stop` is set) and return its exit code; None when stopped, or when
    another waiter in this process collected the status first.

    Never a blocking waitpid: under gunicorn, whose arbiter reaps every child of the server, a thread
    blocked in waitpid(pid) can lose the reaping race and then sleep on, since the kernel wakes a waiter
    once per child exit (seen as a restarted anchor worker that never came). Polling with WNOHANG
    sees the end either way.
    """
    while not stop.is_set():
        try:
            pid, status = os.waitpid(process.pid, os.WNOHANG)
        except ChildProcessError:
            return None  # reaped by someone else: it ended, with a status we cannot know
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode
        stop.wait(every)
    return None


@contextmanager
def flocked(path: Path, mode: int = fcntl.LOCK_EX) -> Iterator[None]:
    """`path` flocked in `mode`, waiting for it; the kernel drops it if the process dies."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)
