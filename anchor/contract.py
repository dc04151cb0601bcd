"""The EvidenceAnchor contract as the Python side sees it: its committed artifact, calls and events.

The ABI and bytecode come from `contracts/build/EvidenceAnchor.json`, which
`contracts/compile.mjs` writes and the test suite checks against the source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_typing import ABI, ABIError
from eth_utils.abi import function_abi_to_4byte_selector
from web3 import Web3
from web3.contract.contract import ContractFunctions
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.types import Nonce, TxParams, Wei

from anchor.chain import Chain, rpc_errors
from anchor.errors import AnchorRefused, ChainError
from anchor.policy import Fees
from ledger.errors import ConfigurationError, VerificationError

ARTIFACT = Path(__file__).resolve().parents[1] / "contracts" / "build" / "EvidenceAnchor.json"
ZERO = bytes(32)
LOG_RANGE = 10_000  # blocks per eth_getLogs request


@dataclass(frozen=True)
class Artifact:
    abi: list[dict[str, Any]]
    bytecode: str

    @classmethod
    @cache
    def load(cls, path: Path = ARTIFACT) -> Artifact:
        data = json.loads(path.read_text())
        return cls(data["abi"], data["bytecode"])


@dataclass(frozen=True)
class AnchoredEvent:
    """One `Anchored(size, root, previousSize)` log entry and where it sits on chain."""

    size: int
    root: bytes
    previous_size: int
    tx_hash: bytes
    block_number: int
    block_hash: bytes


def decode_error(
    data: str | bytes | None, abi: list[dict[str, Any]] | None = None
) -> tuple[str, dict[str, object]]:
    """Name and arguments of a custom error from revert data, e.g. ("SizeNotIncreasing", {...})."""
    raw = (
        bytes.fromhex(data[2:] if data.startswith("0x") else data)
        if isinstance(data, str)
        else (data or b"")
    )
    for item in abi or Artifact.load().abi:
        if (
            item.get("type") != "error"
            or function_abi_to_4byte_selector(cast(ABIError, item)) != raw[:4]
        ):
            continue
        types = [i["type"] for i in item["inputs"]]
        values = abi_decode(types, raw[4:])
        return item["name"], {
            i["name"]: _plain(v) for i, v in zip(item["inputs"], values, strict=True)
        }
    return "UnknownRevert", {"data": raw.hex()}


def _check_hashes(hashes: list[bytes]) -> None:
    """bytes32 arguments must be 32 bytes: the ABI cannot even encode anything else."""
    for position, value in enumerate(hashes):
        if len(value) != 32:
            raise VerificationError(f"hash {position} has {len(value)} bytes, expected 32")


def _plain(value: object) -> object:
    return value.hex() if isinstance(value, bytes) else value


class AnchorContract:
    """Calls and events of one deployed EvidenceAnchor."""

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address = self.checksum(address)
        self._c = chain.w3.eth.contract(
            address=Web3.to_checksum_address(self.address), abi=cast(ABI, Artifact.load().abi)
        )

    @staticmethod
    def checksum(address: str) -> str:
        """The EIP-55 form of an address, as records store it."""
        try:
            return Web3.to_checksum_address(address)
        except ValueError:
            raise ConfigurationError(f"{address!r} is not a contract address") from None

    def latest(self) -> tuple[int, bytes]:
        """The latest anchored `(size, root)`; (0, zero hash) before the first anchor."""
        with rpc_errors(self.chain.url):
            size, root = self._c.functions.latest().call()
        return int(size), bytes(root)

    def root_at(self, size: int) -> bytes | None:
        """The root anchored at `size`, or None."""
        with rpc_errors(self.chain.url):
            root = bytes(self._c.functions.rootAt(size).call())
        return None if root == ZERO else root

    def is_anchorer(self, address: str) -> bool:
        with rpc_errors(self.chain.url):
            return bool(self._c.functions.isAnchorer(Web3.to_checksum_address(address)).call())

    def anchor_transaction(
        self, size: int, root: bytes, proof: list[bytes], sender: str, nonce: int, fees: Fees
    ) -> TxParams:
        """The unsigned `anchor` transaction; estimating its gas runs the contract's checks first.

        Raises AnchorRefused naming the contract's custom error when it would revert.
        """
        _check_hashes([root, *proof])
        call = self._c.functions.anchor(size, root, proof)
        with rpc_errors(self.chain.url), refusals(f"anchor of size {size}"):
            gas = call.estimate_gas({"from": sender})
        params: TxParams = {
            "from": Web3.to_checksum_address(sender),
            "nonce": Nonce(nonce),
            "chainId": self.chain.chain_id,
            "gas": gas
            + gas
            // 5,  # headroom: a later base fee change does not alter execution, storage refunds may
            "maxFeePerGas": Wei(fees.max_fee),
            "maxPriorityFeePerGas": Wei(fees.priority_fee),
        }
        return call.build_transaction(params)

    def anchored_events(
        self, from_block: int, to_block: int | str = "latest", size: int | None = None
    ) -> list[AnchoredEvent]:
        """Anchored events in a block range, optionally only those of one size (an indexed
        topic)."""
        filters = {} if size is None else {"size": size}
        with rpc_errors(self.chain.url):
            logs = self._c.events.Anchored().get_logs(
                from_block=from_block, to_block=to_block, argument_filters=filters
            )
        return [_anchored(e) for e in logs]

    def all_anchored_events(self, from_block: int) -> list[AnchoredEvent]:
        """Every Anchored event since `from_block`, read in ranges that public nodes accept."""
        latest = self.chain.latest_number()
        events: list[AnchoredEvent] = []
        for start in range(from_block, latest + 1, LOG_RANGE):
            events.extend(self.anchored_events(start, min(start + LOG_RANGE - 1, latest)))
        return events

    @property
    def functions(self) -> ContractFunctions:
        """web3's function callers of the contract (tests and benchmarks send raw calls through
        them)."""
        return self._c.functions

    def events_in_tx_receipt(self, logs: list[Any]) -> list[AnchoredEvent]:
        """The Anchored events among a transaction receipt's logs."""
        found = []
        for log in logs:
            if Web3.to_checksum_address(log["address"]) != self.address:
                continue
            try:
                e = self._c.events.Anchored().process_log(log)
            except Exception:  # noqa: BLE001 - another event of the contract (AnchorerAdded, ...)
                continue
            found.append(_anchored(e))
        return found

    def verify_inclusion(self, leaf_hash: bytes, index: int, size: int, proof: list[bytes]) -> None:
        """The contract's own inclusion check; raises VerificationError naming its failed check."""
        _check_hashes([leaf_hash, *proof])
        with rpc_errors(self.chain.url):
            try:
                self._c.functions.verifyInclusion(leaf_hash, index, size, proof).call()
            except (ContractCustomError, ContractLogicError) as exc:
                name, args = decode_error(getattr(exc, "data", None))
                raise VerificationError(
                    f"the contract refused the inclusion proof: {name} {args}", error=name
                ) from None


@contextmanager
def refusals(what: str) -> Iterator[None]:
    """A reverting call inside becomes AnchorRefused naming the contract's custom error."""
    try:
        yield
    except (ContractCustomError, ContractLogicError) as exc:
        name, args = decode_error(getattr(exc, "data", None))
        raise AnchorRefused(
            f"the contract refused the {what}: {name} {args}", error=name, args=args
        ) from None


def deploy(chain: Chain, account: LocalAccount) -> tuple[str, int, bytes]:
    """Deploy EvidenceAnchor from `account`; return address, block, tx hash."""
    artifact = Artifact.load()
    factory = chain.w3.eth.contract(abi=cast(ABI, artifact.abi), bytecode=artifact.bytecode)
    with rpc_errors(chain.url):
        fees = chain.fees()
        params: TxParams = {
            "from": account.address,
            "nonce": Nonce(chain.nonce(account.address)),
            "chainId": chain.chain_id,
            "maxFeePerGas": Wei(fees.max_fee),
            "maxPriorityFeePerGas": Wei(fees.priority_fee),
        }
        tx = factory.constructor().build_transaction(params)
        signed = account.sign_transaction(cast(dict[str, Any], tx))  # a plain dict to eth-account
        chain.send_raw(bytes(signed.raw_transaction))
        receipt = chain.w3.eth.wait_for_transaction_receipt(signed.hash, timeout=120)
    if receipt["status"] != 1:
        raise ChainError("deploying EvidenceAnchor failed: the transaction reverted")
    return str(receipt["contractAddress"]), int(receipt["blockNumber"]), bytes(signed.hash)


def _anchored(event: Any) -> AnchoredEvent:
    """An Anchored event as web3 decoded it (from a log filter or a transaction receipt)."""
    args = event["args"]
    return AnchoredEvent(
        int(args["size"]),
        bytes(args["root"]),
        int(args["previousSize"]),
        bytes(event["transactionHash"]),
        int(event["blockNumber"]),
        bytes(event["blockHash"]),
    )
