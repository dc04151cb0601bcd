"""Wiring of anchoring, known without connecting: which chain and contract this deployment
anchors on, where that chain answers, and the supervisor that keeps an anchor worker running.

Connecting (the worker's target, `serve`'s local chain) is in anchor_target.py: it loads web3,
which every command reading these facts would otherwise pay a second for at start.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from anchor.local import LocalChain
from anchor.policy import Policy
from ledger.processes import SUPERVISOR_PID, spawn, tied, wait_for_exit
from verify_portal.app.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """The chain and contract anchors are read from, known without connecting."""

    chain_id: int
    contract: str


def identity(settings: Settings) -> Identity | None:
    """Where this deployment anchors; None while the embedded chain has no contract yet."""
    if not settings.chain.embedded:
        if not (settings.chain.chain_id and settings.chain.contract_address):
            return None
        from anchor.contract import AnchorContract  # web3: only for a configured chain

        return Identity(
            settings.chain.chain_id, AnchorContract.checksum(settings.chain.contract_address)
        )
    deployment = local_chain(settings).deployment()
    return None if deployment is None else Identity(deployment.chain_id, deployment.contract)


def deployment_block(settings: Settings) -> int:
    """The block the contract was deployed in: where its history starts."""
    if settings.chain.embedded:
        deployment = local_chain(settings).deployment()
        return 0 if deployment is None else deployment.block_number
    return settings.chain.contract_block


def rpc_url(settings: Settings) -> str | None:
    """Where this deployment's chain answers now: the configured RPC, or the running local anvil."""
    if not settings.chain.embedded:
        return settings.chain.rpc_url
    running = local_chain(settings).running()
    return None if running is None else running.rpc_url


def local_chain(settings: Settings) -> LocalChain:
    return LocalChain(settings.chain_dir, settings.chain.anvil_bin)


def policy(settings: Settings) -> Policy:
    return Policy(
        interval=settings.chain.anchor_interval,
        max_leaves=settings.chain.anchor_max_leaves,
        confirmations=settings.chain.anchor_confirmations,
        stuck_after=settings.chain.anchor_stuck_after,
    )


RESTART_FIRST = 1.0  # seconds before a process that ran steadily is started again
RESTART_MOST = 60.0  # the longest wait, for a process that keeps failing at once
STEADY_RUN = 60.0  # a process that ran this long ran steadily


def restart_delay(previous: float, ran_for: float) -> float:
    """Seconds to wait before starting again a process that exited after `ran_for` seconds, the
    wait before its run having been `previous` (0: none). A process killed once is back within a
    second; one that fails at once waits twice as long each time, up to a minute, so it neither
    spins nor fills the log."""
    if previous == 0 or ran_for >= STEADY_RUN:
        return RESTART_FIRST
    return min(previous * 2, RESTART_MOST)


class Supervisor(threading.Thread):
    """Keeps one `lianzheng <arguments>` process running until stopped (the anchor worker, the
    demo witness). This thread alone starts, waits for and stops the process: the process is
    tied to it (`tied`), so the thread outlives it, and its only SIGTERM on a stop is ours."""

    STOP_TIMEOUT = 30.0

    def __init__(self, what: str, arguments: list[str], output: Path | None = None) -> None:
        super().__init__(name=f"supervisor of {what}", daemon=True)
        self.what = what
        self.command = [sys.executable, "-m", "verify_portal", *arguments]
        self.output = output  # a file its output is appended to; else ours
        self._stopping = threading.Event()

    def run(self) -> None:
        delay = 0.0
        while not self._stopping.is_set():
            started = time.monotonic()
            env = {**os.environ, SUPERVISOR_PID: str(os.getpid())}
            with ExitStack() as files:
                out = None if self.output is None else files.enter_context(open(self.output, "ab"))
                process = spawn(tied(self.command), env, out)
            log.info("started %s (pid %d)", self.what, process.pid)
            code = wait_for_exit(process, self._stopping)
            if self._stopping.is_set():
                self._end(process)
                return
            delay = restart_delay(delay, time.monotonic() - started)
            log.error(
                "%s exited (code %s); starting it again in %.0f s",
                self.what,
                "unknown: gunicorn collected it" if code is None else code,
                delay,
            )
            self._stopping.wait(delay)

    def _end(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is not None:
            return
        log.info("stopping %s (pid %d)", self.what, process.pid)
        process.terminate()
        try:
            process.wait(self.STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.error(
                "%s (pid %d) did not stop within %.0f s of SIGTERM; killed",
                self.what,
                process.pid,
                self.STOP_TIMEOUT,
            )
            process.kill()
            process.wait()

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after STOP_TIMEOUT); return once it is gone."""
        self._stopping.set()
        self.join(self.STOP_TIMEOUT + 5)
