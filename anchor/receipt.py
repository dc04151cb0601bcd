"""Receipts: an event's inclusion proof to an anchored checkpoint, with the anchor that holds it.

A receipt is plain JSON that a citizen or lawyer can keep; `verify` checks it
against the chain alone (`lianzheng verify-receipt FILE --rpc URL`), trusting
nothing our server says. Each check is reported by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from anchor.chain import Chain
from anchor.contract import AnchorContract
from anchor.errors import ChainError
from anchor.models import AnchorRecord, AnchorStatus
from ledger import merkle
from ledger.checkpoint import CheckpointSigner, raw_public_key, verify_note
from ledger.db import as_utc
from ledger.errors import LianzhengError, VerificationError
from ledger.events import Event
from ledger.storage import InclusionProof, SignedHead

FORMAT = "lianzheng-receipt/1"


def build(signer: CheckpointSigner, head: SignedHead, proof: InclusionProof, record: AnchorRecord,
          event: bytes | None = None) -> dict[str, object]:
    """The receipt of the leaf `proof.index` to the anchored checkpoint `head`."""
    receipt: dict[str, object] = {
        "format": FORMAT,
        "log": {"origin": signer.origin, "key_id": signer.key_id.hex(),
                "public_key": raw_public_key(signer.public_key).hex()},
        "leaf_index": proof.index,
        "leaf_hash": proof.leaf_hash.hex(),
        "inclusion": {"size": proof.size, "root": proof.root.hex(), "proof": [h.hex() for h in proof.proof]},
        "checkpoint": head.note,
        "anchor": {"chain_id": record.chain_id, "contract": record.contract, "size": record.size,
                   "root": record.root.hex(), "tx_hash": "0x" + record.tx_hash.hex(),
                   "block_number": record.block_number,
                   "block_hash": None if record.block_hash is None else "0x" + record.block_hash.hex(),
                   "final": record.status == AnchorStatus.FINAL,
                   "anchored_at": None if record.mined_at is None else
                   as_utc(record.mined_at).strftime("%Y-%m-%dT%H:%M:%SZ")},
    }
    if event is not None:
        receipt["event"] = event.decode()
    return receipt


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    def to_json(self) -> dict[str, object]:
        return {"check": self.name, "passed": self.passed, "detail": self.detail}


class _Checks:
    def __init__(self) -> None:
        self.results: list[Check] = []

    def run(self, name: str, check: Callable[[], str]) -> bool:
        """Run one check; a LianzhengError, KeyError or ValueError is its failure, with the reason."""
        try:
            detail = check()
        except (LianzhengError, KeyError, ValueError, TypeError) as exc:
            reason = exc.message if isinstance(exc, LianzhengError) else f"malformed receipt: {exc!r}"
            self.results.append(Check(name, False, reason))
            return False
        self.results.append(Check(name, True, detail))
        return True


def _hex(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def verify(receipt: dict, chain: Chain | None) -> list[Check]:
    """Every check of a receipt, against the chain at `chain` when given; it passes only if all pass."""
    checks = _Checks()
    leaf = _hex(receipt.get("leaf_hash", ""))
    anchor = receipt.get("anchor") or {}
    inclusion = receipt.get("inclusion") or {}
    if "event" in receipt:
        checks.run("event hashes to the leaf", lambda: _check_event(receipt["event"], leaf))
    checks.run("inclusion proof leads to the anchored root", lambda: _check_inclusion(receipt, leaf))
    checks.run("checkpoint is signed by the log key and names the anchored tree head",
               lambda: _check_checkpoint(receipt))
    if chain is None:
        return checks.results
    contract: list[AnchorContract] = []
    if checks.run("chain and contract", lambda: _check_contract(chain, anchor, contract)):
        checks.run("contract holds the root at this size", lambda: _check_root(contract[0], anchor))
        checks.run("anchoring transaction is in a canonical block", lambda: _check_tx(contract[0], anchor))
        checks.run("contract's own inclusion check", lambda: _check_on_chain_inclusion(
            contract[0], leaf, int(receipt["leaf_index"]), int(anchor["size"]),
            [_hex(h) for h in inclusion["proof"]]))
    return checks.results


def check_on_chain(chain: Chain, anchor: dict) -> str:
    """That the chain holds this anchor: chain id, contract, rootAt(size), the transaction in a canonical
    block. Raises a LianzhengError naming the first thing that does not hold."""
    contract: list[AnchorContract] = []
    details = [_check_contract(chain, anchor, contract), _check_root(contract[0], anchor),
               _check_tx(contract[0], anchor)]
    return "; ".join(details)


def _check_event(event: str, leaf: bytes) -> str:
    data = event.encode()
    Event.decode(data)  # canonical JSON of a well-formed event, or VerificationError
    if merkle.leaf_hash(data) != leaf:
        raise VerificationError(f"the event hashes to {merkle.leaf_hash(data).hex()}, not to the leaf {leaf.hex()}")
    return "SHA-256(0x00 || event) equals the leaf hash"


def _check_inclusion(receipt: dict, leaf: bytes) -> str:
    inclusion, anchor = receipt["inclusion"], receipt["anchor"]
    size, root = int(inclusion["size"]), _hex(inclusion["root"])
    if size != int(anchor["size"]) or root != _hex(anchor["root"]):
        raise VerificationError(f"the proof is to size {size}, the anchor is at size {anchor['size']}")
    merkle.verify_inclusion(int(receipt["leaf_index"]), size, leaf, [_hex(h) for h in inclusion["proof"]], root)
    return f"leaf {receipt['leaf_index']} is in the tree of {size} leaves with root {root.hex()}"


def _check_checkpoint(receipt: dict) -> str:
    log, anchor = receipt["log"], receipt["anchor"]
    key = Ed25519PublicKey.from_public_bytes(_hex(log["public_key"]))
    checkpoint = verify_note(receipt["checkpoint"], log["origin"], key)
    if checkpoint.size != int(anchor["size"]) or checkpoint.root != _hex(anchor["root"]):
        raise VerificationError(f"the checkpoint is of size {checkpoint.size}, the anchor of size {anchor['size']}")
    return (f"{log['origin']} key {log['key_id']} (the key is the receipt's own: "
            "compare it with the log's published key)")


def _check_contract(chain: Chain, anchor: dict, out: list[AnchorContract]) -> str:
    if chain.chain_id != int(anchor["chain_id"]):
        raise VerificationError(f"the RPC endpoint serves chain {chain.chain_id}, the receipt names chain "
                                f"{anchor['chain_id']}")
    if not chain.code_at(anchor["contract"]):
        raise VerificationError(f"there is no contract at {anchor['contract']} on chain {chain.chain_id}")
    out.append(AnchorContract(chain, anchor["contract"]))
    return f"chain {chain.chain_id}, contract {anchor['contract']}"


def _check_root(contract: AnchorContract, anchor: dict) -> str:
    size, root = int(anchor["size"]), _hex(anchor["root"])
    on_chain = contract.root_at(size)
    if on_chain is None:
        raise VerificationError(f"the contract has no root anchored at size {size}")
    if on_chain != root:
        raise VerificationError(f"the contract's root at size {size} is {on_chain.hex()}, not {root.hex()}")
    return f"rootAt({size}) = {root.hex()}"


def _check_tx(contract: AnchorContract, anchor: dict) -> str:
    chain = contract.chain
    receipt = chain.receipt(_hex(anchor["tx_hash"]))
    if receipt is None or not receipt.succeeded:
        raise VerificationError(f"transaction {anchor['tx_hash']} is not in a block of this chain")
    if receipt.block_number != int(anchor["block_number"]) or receipt.block_hash != _hex(anchor["block_hash"]):
        raise VerificationError(f"transaction {anchor['tx_hash']} is in block {receipt.block_number}, the receipt "
                                f"says block {anchor['block_number']}")
    if not any(e.size == int(anchor["size"]) and e.root == _hex(anchor["root"])
               for e in contract.events_in_receipt(receipt.logs)):
        raise VerificationError(f"transaction {anchor['tx_hash']} did not anchor size {anchor['size']}")
    finalized = chain.finalized_number()
    block = chain.block(receipt.block_number)
    if block is None or block.hash != receipt.block_hash:
        raise ChainError(f"block {receipt.block_number} is no longer canonical")
    state = "final" if finalized is not None and receipt.block_number <= finalized else "not yet final"
    return f"block {receipt.block_number} at unix time {block.timestamp} ({state})"


def _check_on_chain_inclusion(contract: AnchorContract, leaf: bytes, index: int, size: int,
                              proof: list[bytes]) -> str:
    contract.verify_inclusion(leaf, index, size, proof)
    return "verifyInclusion returned true"
