"""Wiring of anchoring: which chain, contract and account this deployment anchors with.

The embedded default starts the local anvil under `<data>/chain` and deploys
the contract on first start; production connects to the configured RPC
endpoint and checks the chain id, the contract and the anchor account first.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from anchor import account
from anchor.chain import Chain
from anchor.contract import AnchorContract
from anchor.errors import ChainError
from anchor.local import LocalChain
from anchor.policy import Policy
from anchor.worker import Target
from ledger.errors import ConfigurationError
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


def connect(settings: Settings) -> tuple[Target, Callable[[], object] | None]:
    """The anchoring target, and how to stop the local chain if this call started it."""
    if settings.chain.embedded:
        local = local_chain(settings)
        running, started = local.up()
        chain = Chain(running.rpc_url)
        deployment = local.ensure_contract(chain)
        target = Target(
            chain,
            AnchorContract(chain, deployment.contract),
            account.development_account(),
            deployment.block_number,
            produce_block=lambda: local.produce_block(chain),
        )
        return target, (local.down if started else None)
    return _production_target(settings), None


def _production_target(settings: Settings) -> Target:
    if not (settings.chain.chain_id and settings.chain.contract_address):
        raise ConfigurationError(
            "LIANZHENG_RPC_URL needs LIANZHENG_CHAIN_ID and LIANZHENG_CONTRACT_ADDRESS "
            "(deploy the contract with `lianzheng chain deploy`)"
        )
    chain = Chain(settings.chain.rpc_url or "")
    if chain.chain_id != settings.chain.chain_id:
        raise ConfigurationError(
            f"LIANZHENG_RPC_URL serves chain {chain.chain_id}, "
            f"LIANZHENG_CHAIN_ID says {settings.chain.chain_id}"
        )
    signer = account.production_account(anchor_account(settings))
    address = settings.chain.contract_address or ""
    if not chain.code_at(address):
        raise ConfigurationError(f"no contract at {address} on chain {chain.chain_id}")
    contract = AnchorContract(chain, address)
    if not contract.is_anchorer(signer.address):
        raise ConfigurationError(
            f"{signer.address} may not anchor on {address}: the owner must call addAnchorer for it"
        )
    return Target(chain, contract, signer, settings.chain.contract_block)


def anchor_account(settings: Settings) -> LocalAccount:
    """The production anchor key, from a keystore file or LIANZHENG_ANCHOR_KEY."""
    if settings.chain.anchor_keystore is not None:
        return account.from_keystore(
            settings.chain.anchor_keystore, settings.chain.anchor_keystore_password
        )
    if settings.chain.anchor_key:
        return account.from_key(settings.chain.anchor_key)
    raise ConfigurationError(
        "anchoring on LIANZHENG_RPC_URL needs LIANZHENG_ANCHOR_KEYSTORE (with "
        "LIANZHENG_ANCHOR_KEYSTORE_PASSWORD) or LIANZHENG_ANCHOR_KEY"
    )


@contextmanager
def serving_chain(settings: Settings) -> Iterator[None]:
    """For `serve` on the embedded default: the local chain up and an anchor worker process beside
    it.

    A chain that does not start is reported, not fatal: the log takes events
    without it, and the worker keeps trying while the chain is down. A worker
    that dies is started again.
    """
    if not (settings.chain.embedded and settings.chain.anchor_in_serve):
        yield
        return
    local, started = local_chain(settings), False
    try:
        running, started = local.up(ends_with_us=True)
        local.ensure_contract(Chain(running.rpc_url))
    except (ChainError, ConfigurationError) as exc:
        log.error(
            "the local chain did not start; events are still logged and anchored later: %s",
            exc.message,
        )
    supervisor = Supervisor("the anchor worker", ["anchor", "run"])
    supervisor.start()
    owner = os.getpid()
    try:
        yield
    finally:
        # gunicorn's workers are forks of this process and leave through this same stack when they
        # exit:
        # only the process that started the chain and the worker may stop them.
        if os.getpid() == owner:
            supervisor.stop()
            if started:
                log.info("stopping the local chain")
                local.down()


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
