"""What a benchmark reads of the other processes on this machine, from /proc (Linux): a process's
children, their memory and the CPU time they used."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces): state first."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def workers_of(master: int) -> list[int]:
    """The processes whose parent is `master`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and parent_of(int(entry.name)) == master:
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return found


def rss(pid: int) -> int:
    """The resident memory of `pid` in bytes; 0 once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def command_of(pid: int) -> str:
    """The command name of `pid` (at most 15 characters, proc(5): comm)."""
    return Path(f"/proc/{pid}/comm").read_text().strip()


def parent_of(pid: int) -> int:
    """The parent process of `pid`."""
    return int(_stat_fields(pid)[1])


def tree(root: int) -> list[int]:
    """`root` and its children."""
    return [root, *workers_of(root)]


def cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """The user and system CPU time each of `pids` that still runs has used so far."""
    used = {}
    for pid in pids:
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        # utime and stime, in clock ticks (proc(5): fields 14 and 15 of the line)
        used[pid] = (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND
    return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two readings by the processes of the second: one started in between
    counts whole, one ended in between is missed."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def settle(root: int, timeout: float = 60, busy: float = 0.05) -> None:
    """Wait until `root` and its children use less than `busy` of a core over half a second: a
    service that has just started is still busy starting (its anchor worker imports web3 for a
    few seconds), which a benchmark of its steady state must not count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(tree(root))
        time.sleep(0.5)
        if cpu_used(before, cpu_seconds(tree(root))) < busy * 0.5:
            return
    raise RuntimeError(f"process {root} and its children were still busy after {timeout} s")
