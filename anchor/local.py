"""The embedded chain: anvil from the npm package `@foundry-rs/anvil`, its state under the data
directory.

`<data>/chain/` holds anvil's state (`state.json`, dumped every few seconds and
on exit, so anchors survive a restart), the running node's pid and port
(`anvil.json`) and the contract's deployment (`deployment.json`). One anvil at
most runs on one state: `up` starts it under a lock (`anvil.lock`), and a
running one that is slow to answer is waited for, never doubled.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from anchor.errors import ChainError, ChainUnavailable
from ledger.errors import ConfigurationError
from ledger.processes import flocked, running, tied

if TYPE_CHECKING:  # web3 and eth_account take a second to load: see _latest_block
    from anchor.chain import Chain

log = logging.getLogger(__name__)

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
CHAIN_ID = 31337
START_TIMEOUT = 30.0
PORT_ATTEMPTS = 3  # a free port picked can be taken by another process before anvil binds it
STATE_INTERVAL = 5  # seconds between dumps of anvil's state
FINALITY_DEPTH = 2  # blocks on top of a block that make it final: two epochs of one slot


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    contract: str
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class Running:
    pid: int
    rpc_url: str


def find_anvil(configured: str | None = None) -> str:
    """The anvil binary: the configured path, the project's npm install, or anvil on PATH. Of the
    npm install, the platform package's binary itself rather than the node wrapper in `.bin`, so the
    pid we keep and signal is anvil's, and nothing is left behind when anvil's parent is killed."""
    native = sorted(NODE_MODULES.glob("@foundry-rs/anvil-*/bin/anvil"))
    wrapper = NODE_MODULES / ".bin" / "anvil"
    for candidate in (configured, *map(str, native), str(wrapper), shutil.which("anvil")):
        if candidate and Path(candidate).exists():
            return candidate
    raise ConfigurationError(
        "anvil is not installed: run `make install` (npm ci installs @foundry-rs/anvil)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LocalChain:
    """Start, stop and inspect the embedded anvil of one data directory."""

    def __init__(self, directory: Path, anvil: str | None = None) -> None:
        self.dir = directory
        self.anvil = anvil

    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    @property
    def _info_file(self) -> Path:
        return self.dir / "anvil.json"

    @property
    def _deployment_file(self) -> Path:
        return self.dir / "deployment.json"

    def running(self) -> Running | None:
        """The anvil of this directory if its process runs; it may be too busy to answer just now,
        so whoever talks to it keeps its own timeouts."""
        try:
            info = json.loads(self._info_file.read_text())
        except (OSError, ValueError):
            return None
        if not self._is_ours(info["pid"]):
            return None
        return Running(info["pid"], info["rpc_url"])

    def _is_ours(self, pid: int) -> bool:
        """Whether `pid` runs anvil on this directory's state, not a process that took a dead
        anvil's pid."""
        if not running(pid):
            return False
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return not Path("/proc").is_dir()  # without /proc (not Linux) the pid's word stands
        return str(self.state_file).encode() in command

    def up(self, ends_with_us: bool = False) -> tuple[Running, bool]:
        """Start anvil unless it runs; returns it once it answers, and whether this call started it.

        With `ends_with_us` anvil ends when this process does (`serve`: a killed server leaves no
        chain behind; the next one starts it again from its saved state); `lianzheng chain up`
        leaves it running."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with flocked(
            self.dir / "anvil.lock"
        ):  # serve, its anchor worker and an audit may all ask at once
            current = self._answering()
            if current is not None:
                return current, False
            return self._start(ends_with_us), True

    def _answering(self) -> Running | None:
        """The running anvil once it answers; None when none runs, or the one running has exited
        while we waited (a predecessor's, saving its state on the way out)."""
        deadline = time.monotonic() + START_TIMEOUT
        while (current := self.running()) is not None:
            try:
                _latest_block(current.rpc_url, timeout=2)
                return current
            except ChainUnavailable:
                if time.monotonic() > deadline:
                    raise ChainError(
                        f"anvil (pid {current.pid}) runs on {self.state_file} but has not answered "
                        f"for {START_TIMEOUT:.0f} s; a second one on the same state would fork "
                        "it: stop it first"
                    ) from None
                _reap(current.pid)
                time.sleep(0.2)
        return None

    def _start(self, ends_with_us: bool) -> Running:
        for _ in range(PORT_ATTEMPTS - 1):
            try:
                return self._start_on(_free_port(), ends_with_us)
            except _PortTaken:
                pass  # another process bound the free port we picked before anvil did: pick again
        return self._start_on(_free_port(), ends_with_us)

    def _start_on(self, port: int, ends_with_us: bool) -> Running:
        command = [
            find_anvil(self.anvil),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--chain-id",
            str(CHAIN_ID),
            # Saved every few seconds and on exit; blocks lost to a kill -9 in between look to the
            # worker like a reorganisation, and it anchors again.
            "--state",
            str(self.state_file),
            "--state-interval",
            str(STATE_INTERVAL),
            # A block per transaction, no empty blocks on a timer: the state file grows only with
            # anchors.
            # `finalized` trails `latest` by two epochs; one slot per epoch makes that two blocks
            # (FINALITY_DEPTH).
            "--slots-in-an-epoch",
            "1",
        ]
        log_file = self.dir / "anvil.log"
        with open(log_file, "ab") as out:
            started_at = (
                out.tell()
            )  # this start's lines follow: an earlier start's say nothing of this one
            process = subprocess.Popen(
                tied(command) if ends_with_us else command,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        rpc_url = f"http://127.0.0.1:{port}"
        # On record before it answers: a successor started while this one boots (or after we were
        # killed
        # in between) finds it and waits for it rather than starting a second anvil on the same
        # state.
        self._info_file.write_text(json.dumps({"pid": process.pid, "rpc_url": rpc_url}))
        try:
            self._wait_until_up(process, rpc_url, _Output(log_file, started_at))
        except ChainError:
            self._info_file.unlink(missing_ok=True)
            raise
        log.info(
            "local chain started: anvil pid %d at %s, state in %s",
            process.pid,
            rpc_url,
            self.state_file,
        )
        return Running(process.pid, rpc_url)

    def _wait_until_up(
        self, process: subprocess.Popen[bytes], rpc_url: str, output: _Output
    ) -> None:
        """Wait until this anvil listens on `rpc_url` (its own line says so: whatever else answers
        there is not it) and answers."""
        listening = f"Listening on {rpc_url.removeprefix('http://')}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                if "Address already in use" in output.text():
                    raise _PortTaken(rpc_url)
                raise ChainError(
                    f"anvil exited at start (code {process.returncode}); see {output.path}"
                )
            try:
                if listening in output.text():
                    _latest_block(rpc_url, timeout=1)
                    return
            except ChainUnavailable:
                pass
            time.sleep(0.1)
        process.kill()
        raise ChainError(f"anvil did not answer within {START_TIMEOUT:.0f} s; see {output.path}")

    def down(self) -> bool:
        """Stop anvil (it dumps its state on SIGTERM); False if it was not running."""
        try:
            pid = json.loads(self._info_file.read_text())["pid"]
        except (OSError, ValueError):
            return False
        stopped = False
        if self._is_ours(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while running(pid) and time.monotonic() < deadline:
                _reap(pid)
                time.sleep(0.05)
            if running(pid):
                os.kill(pid, signal.SIGKILL)
            stopped = True
        self._info_file.unlink(missing_ok=True)
        return stopped

    @staticmethod
    def produce_block(chain: Chain, blocks: int = FINALITY_DEPTH) -> None:
        """Mine empty blocks, by default as many as make the block below them final: the local
        chain's stand-in for a real chain's validators, used only while an anchor waits for blocks
        on top of it to become final."""
        chain.rpc("anvil_mine", [blocks])

    def deployment(self) -> Deployment | None:
        try:
            return Deployment(**json.loads(self._deployment_file.read_text()))
        except OSError:
            return None

    def ensure_contract(self, chain: Chain) -> Deployment:
        """The contract of this chain, deployed on first start by anvil's first development
        account."""
        found = self.deployment()
        if found is not None:
            if not chain.code_at(found.contract):
                raise ChainError(
                    f"no contract at {found.contract} on the local chain: its state in "
                    f"{self.state_file} was lost or replaced; the anchors there are gone"
                )
            return found
        from anchor import account  # loaded on a first start only, like web3 (_latest_block)
        from anchor.contract import deploy

        address, block, tx_hash = deploy(chain, account.development_account())
        found = Deployment(chain.chain_id, address, block, "0x" + tx_hash.hex())
        tmp = self._deployment_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(found.__dict__, indent=2))
        os.replace(tmp, self._deployment_file)
        log.info("EvidenceAnchor deployed on the local chain at %s (block %d)", address, block)
        return found


def _latest_block(rpc_url: str, timeout: float) -> int:
    """The node's latest block number; ChainUnavailable if it does not answer. web3 is loaded
    here and not with this module: the commands that only read the chain's files (which chain,
    which contract, where it answers) would otherwise each start a second later."""
    from anchor.chain import Chain

    return Chain(rpc_url, timeout=timeout).latest_number()


class _PortTaken(ChainError):
    """The port picked for anvil was bound by another process first."""


@dataclass(frozen=True)
class _Output:
    """What one anvil start wrote to its log: the file from `offset` on."""

    path: Path
    offset: int

    def text(self) -> str:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            return f.read(64 * 1024).decode(
                errors="replace"
            )  # the start-up lines; no need for more


def _reap(pid: int) -> None:
    """Collect our own child's exit status so it does not linger as a zombie that looks alive."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
