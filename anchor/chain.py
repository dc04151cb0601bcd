"""A thin JSON-RPC client for what anchoring needs of an EVM chain: blocks, nonces, fees, receipts.

Every transport failure surfaces as `ChainUnavailable`, so the worker can
back off and report the outage instead of crashing: the log keeps taking events while the chain is
down."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    BlockNotFound,
    ProviderConnectionError,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import BlockIdentifier, RPCEndpoint

from anchor.errors import ChainError, ChainUnavailable
from anchor.policy import Fees


@dataclass(frozen=True)
class Block:
    number: int
    hash: bytes
    timestamp: int


@dataclass(frozen=True)
class TxReceipt:
    tx_hash: bytes
    succeeded: bool
    block_number: int
    block_hash: bytes
    gas_used: int
    logs: list[Any]


@contextmanager
def rpc_errors(url: str) -> Iterator[None]:
    """Turn transport failures into ChainUnavailable naming the endpoint."""
    try:
        yield
    except (
        requests.ConnectionError,
        requests.Timeout,
        ProviderConnectionError,
        ConnectionError,
    ) as exc:
        raise ChainUnavailable(f"chain at {url} is unreachable: {type(exc).__name__}") from None


class Chain:
    """One EVM JSON-RPC endpoint."""

    def __init__(self, rpc_url: str, timeout: float = 10.0) -> None:
        self.url = rpc_url
        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        self._chain_id: int | None = None

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            with rpc_errors(self.url):
                self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def block(self, ident: BlockIdentifier) -> Block | None:
        """The block at a number or tag (`latest`, `finalized`); None if there is no such block."""
        with rpc_errors(self.url):
            try:
                b = self.w3.eth.get_block(ident)
            except (BlockNotFound, Web3RPCError):
                return None
        if b is None:
            return None
        return Block(int(b["number"]), bytes(b["hash"]), int(b["timestamp"]))

    def latest_number(self) -> int:
        with rpc_errors(self.url):
            return int(self.w3.eth.block_number)

    def finalized_number(self) -> int | None:
        """The chain's `finalized` block number, or None where the chain has no such tag."""
        block = self.block("finalized")
        return None if block is None else block.number

    def nonce(self, address: str) -> int:
        """The next nonce by the chain's `latest` state: what is mined, not what sits in the
        pool."""
        with rpc_errors(self.url):
            return int(
                self.w3.eth.get_transaction_count(Web3.to_checksum_address(address), "latest")
            )

    def fees(self) -> Fees:
        """Fees that get a transaction into the next blocks even if the base fee doubles."""
        with rpc_errors(self.url):
            base = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0))
            tip = int(self.w3.eth.max_priority_fee)
        return Fees(max_fee=2 * base + tip, priority_fee=tip)

    def tx_receipt(self, tx_hash: bytes) -> TxReceipt | None:
        """The receipt of a mined transaction, or None while it is not in a block."""
        with rpc_errors(self.url):
            try:
                r = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                return None
        if r is None or r.get("blockNumber") is None:
            return None
        return TxReceipt(
            bytes(r["transactionHash"]),
            r["status"] == 1,
            int(r["blockNumber"]),
            bytes(r["blockHash"]),
            int(r["gasUsed"]),
            list(r["logs"]),
        )

    def transaction(self, tx_hash: bytes) -> dict[str, Any]:
        """A known transaction's fields (from, nonce, fees)."""
        with rpc_errors(self.url):
            return dict(self.w3.eth.get_transaction(HexBytes(tx_hash)))

    def in_pool(self, tx_hash: bytes) -> bool:
        """Whether the node knows the transaction at all (pending or mined)."""
        with rpc_errors(self.url):
            try:
                self.w3.eth.get_transaction(HexBytes(tx_hash))
            except TransactionNotFound:
                return False
        return True

    def send_raw(self, raw: bytes) -> None:
        """Broadcast a signed transaction; sending the same bytes again is harmless."""
        with rpc_errors(self.url):
            try:
                self.w3.eth.send_raw_transaction(raw)
            except Web3RPCError as exc:
                message = str(exc).lower()
                if (
                    "already known" in message
                    or "already imported" in message
                    or "already exists" in message
                ):
                    return
                raise ChainError(f"chain refused the transaction: {exc}") from None

    def code_at(self, address: str) -> bytes:
        with rpc_errors(self.url):
            return bytes(self.w3.eth.get_code(Web3.to_checksum_address(address)))

    def rpc(self, method: str, params: list[Any]) -> object:
        """A raw JSON-RPC call (anvil's management methods in tests and local chain set-up)."""
        with rpc_errors(self.url):
            answer = self.w3.provider.make_request(RPCEndpoint(method), params)
        if "error" in answer:
            raise ChainError(f"{method} failed: {answer['error']}")
        return answer.get("result")
