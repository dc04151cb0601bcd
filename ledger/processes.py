"""Small operating-system helpers that several domains need: processes, their ends, file locks."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def running(pid: int) -> bool:
    """Whether process `pid` runs. A zombie (dead, not yet reaped, as under an init that never
    reaps) does not."""
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


# Starting a child from a thread while another thread forks (gunicorn's arbiter booting a worker)
# lets the fork copy the pipe on which subprocess waits for the child's exec: the pipe is closed on
# exec, and that worker never execs, so Popen waits until the worker exits, with the child long
# running (seen as an anchor worker that, killed, was never started again). A fork made with
# os.fork waits here while a child is being spawned, so it cannot take that pipe along.
_SPAWNING = threading.Lock()
os.register_at_fork(
    before=_SPAWNING.acquire,
    after_in_parent=_SPAWNING.release,
    after_in_child=_SPAWNING.release,
)


def spawn(
    command: list[str], env: dict[str, str], output: IO[bytes] | None = None
) -> subprocess.Popen[bytes]:
    """Start `command` (its output to `output`, else ours), never across another thread's os.fork.
    Never with a preexec_fn: that would run the fork hooks, and this lock, inside the spawn."""
    with _SPAWNING:
        return subprocess.Popen(command, env=env, stdout=output, stderr=output)


SUPERVISOR_PID = (
    "LIANZHENG_SUPERVISOR_PID"  # set for a child that must not outlive the process named
)


def tied(command: list[str]) -> list[str]:
    """`command` made to end with the thread that starts it: SIGTERM on that thread's death
    (prctl(2) PR_SET_PDEATHSIG, set by util-linux's `setpriv` before it execs the command), so anvil
    saves its state and the anchor worker leaves its lock when `serve` is killed. Not a
    `preexec_fn`: that makes Python run every at-fork hook of the process (gunicorn's arbiter stops
    and restarts its control server in them) from our thread. Without setpriv (not Linux) the
    command outlives its parent.

    A parent killed before setpriv armed the signal leaves the child orphaned: a child of ours
    checks `parent_is_gone` once it runs; anvil is found by the next `serve` through its pid file.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", *command] if setpriv else command


def parent_is_gone() -> bool:
    """Whether the process named by LIANZHENG_SUPERVISOR_PID, which started this one, is no longer
    its parent (it died before this process was tied to it)."""
    expected = os.environ.get(SUPERVISOR_PID)
    return expected is not None and os.getppid() != int(expected)


def wait_for_exit(
    process: subprocess.Popen[bytes], stop: threading.Event, every: float = 0.5
) -> int | None:
    """Wait until `process` ends (or `stop` is set) and return its exit code; None when stopped, or
    when another waiter in this process collected the status first.

    Never a blocking waitpid: under gunicorn, whose arbiter reaps every child of the server, a
    thread blocked in waitpid(pid) can lose the reaping race and then sleep on, since the kernel
    wakes a waiter once per child exit (seen as a restarted anchor worker that never came). Polling
    with WNOHANG sees the end either way."""
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


def stop_on_signals(signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> threading.Event:
    """An Event that is set once one of `signals` arrives. Call it from the main thread, once.

    Never `Event.set` in a Python signal handler: the handler runs in the main thread between two of
    its bytecodes, possibly while that thread holds the Event's own lock (inside `wait`, or inside
    an earlier handler's `set`); a second `set` then waits on that lock forever. The anchor worker
    hung so when its supervisor's SIGTERM and the parent-death SIGTERM came together. Here the
    handler does nothing; the C-level handler writes the signal number to a pipe
    (signal.set_wakeup_fd) and a thread of ours sets the Event in ordinary code."""
    stop = threading.Event()
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    for number in signals:
        signal.signal(number, _noted_only)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)

    def watch() -> None:
        while os.read(read_end, 1)[0] not in signals:
            pass  # another signal with a Python handler: not ours to act on
        stop.set()

    threading.Thread(target=watch, name="signals", daemon=True).start()
    return stop


def _noted_only(number: int, frame: object) -> None:
    """The Python half of a signal taken by `stop_on_signals`: nothing, by design."""


@contextmanager
def flocked(path: Path, mode: int = fcntl.LOCK_EX) -> Iterator[None]:
    """`path` flocked in `mode`, waiting for it; the kernel drops it if the process dies."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)
