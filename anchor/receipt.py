"""Receipts: an event's inclusion proof to an anchored checkpoint, with the anchor that holds it.

A receipt is plain JSON that a citizen or lawyer can keep. `verify` checks it
against the trust root the verifier holds and, given RPC endpoints, against
the chain that root pins (`lianzheng verify-receipt FILE --rpc URL`). What
the receipt says about its own log, key, chain or contract is a claim: the
checkpoint must be signed by a key of the root, and the anchor must be in the
root's contract on the root's chain. Each check is reported by name.

`check_anchor` is the chain leg of both receipts and packages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from anchor.errors import ChainError
from anchor.policy import Policy, is_final
from ledger import merkle, trust
from ledger.errors import CheckIncomplete, LianzhengError, VerificationError
from ledger.events import BEIJING, Event
from ledger.trust import ChainPin, TrustRoot, TrustRoots, VerifiedCheckpoint
from ledger.verdict import EXIT_CODES, Status, Verdict, verdict_of

if TYPE_CHECKING:  # web3 loads in a second: only a check against a chain needs it (_contract)
    from anchor.chain import Chain
    from anchor.contract import AnchorContract

RECEIPT_FORMAT = "lianzheng-receipt/1"


@dataclass(frozen=True)
class ReceiptCheck:
    name: str
    status: Status
    detail: str

    @property
    def passed(self) -> bool:
        return self.status == Status.PASS

    def to_json(self) -> dict[str, object]:
        return {"check": self.name, "status": self.status.value, "detail": self.detail}


@dataclass
class ReceiptReport:
    checks: list[ReceiptCheck] = field(default_factory=list)
    root: TrustRoot | None = None
    chain_required: bool = False

    @property
    def verdict(self) -> Verdict:
        chain = next((c.status for c in self.checks if c.name == ANCHORED), Status.NOT_RUN)
        return verdict_of((c.status for c in self.checks), self.chain_required, chain)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict.value,
            "passed": self.verdict == Verdict.VERIFIED,
            "root": None
            if self.root is None
            else {"agency": self.root.agency, "fingerprint": self.root.fingerprint},
            "checks": [c.to_json() for c in self.checks],
        }


class _NotRun(Exception):
    pass


ANCHORED = "the contract the root pins holds this tree head, with the required confirmations"


class _Checks:
    def __init__(self, report: ReceiptReport) -> None:
        self.report = report

    def run(self, name: str, check: Callable[[], str]) -> bool:
        """Run one check; its exception decides its status, with the reason."""
        try:
            detail = check()
        except _NotRun as exc:
            return self._add(name, Status.NOT_RUN, f"not run: {exc}")
        except CheckIncomplete as exc:
            return self._add(name, Status.INCOMPLETE, exc.message)
        except LianzhengError as exc:
            return self._add(name, Status.FAIL, exc.message)
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
            return self._add(name, Status.FAIL, f"malformed receipt: {exc!r}"[:500])
        return self._add(name, Status.PASS, detail)

    def _add(self, name: str, status: Status, detail: str) -> bool:
        self.report.checks.append(ReceiptCheck(name, status, detail))
        return status == Status.PASS


def _hex(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def verify(
    receipt: dict[str, Any],
    roots: TrustRoots,
    chains: Sequence[Chain] = (),
    require_chain: bool = False,
) -> ReceiptReport:
    """Every check of a receipt against `roots` and, when given, the chain the root pins."""
    report = ReceiptReport(chain_required=require_chain)
    checks = _Checks(report)
    leaf = _hex(receipt.get("leaf_hash", ""))
    state: dict[str, Any] = {}
    if "event" in receipt:
        checks.run("event hashes to the leaf", lambda: _check_event(receipt["event"], leaf))
    if not checks.run(
        "a trusted root names the receipt's log", lambda: _find_root(receipt, roots, state)
    ):
        return report
    root: TrustRoot = state["root"]
    report.root, report.chain_required = root, require_chain or root.require_chain_check
    signed = checks.run(
        "checkpoint is signed by a key of the trusted root",
        lambda: _check_checkpoint(receipt, root, state),
    )
    if not signed:
        return report
    verified: VerifiedCheckpoint = state["checkpoint"]
    checks.run("witness cosignatures", lambda: _check_witnesses(root, verified))
    checks.run(
        "inclusion proof leads to the checkpoint's root",
        lambda: _check_inclusion(receipt, leaf, verified),
    )
    pinned = checks.run(
        "the anchor names the checkpoint and the root's chain and contract",
        lambda: _check_claim(receipt["anchor"], root, verified),
    )
    if not pinned:
        return report
    pin, claim = root.chain, receipt["anchor"]
    assert pin is not None  # _check_claim refuses a root without a chain
    checks.run(ANCHORED, lambda: _chain_leg(chains, pin, claim))
    if chains and report.checks[-1].passed:
        checks.run(
            "the contract's own inclusion check",
            lambda: _check_on_chain_inclusion(
                chain_for(pin, chains),
                pin,
                leaf,
                int(receipt["leaf_index"]),
                [_hex(h) for h in receipt["inclusion"]["proof"]],
                verified.checkpoint.size,
            ),
        )
    return report


def _find_root(receipt: dict[str, Any], roots: TrustRoots, state: dict[str, Any]) -> str:
    origin = str(receipt["checkpoint"]).split("\n", 1)[0]
    root = roots.for_origin(origin)
    if root is None:
        known = ", ".join(repr(o) for o in roots.origins()) or "none"
        raise VerificationError(
            f"no trusted root names log origin {origin!r} (trusted: {known}); add "
            "the agency's root with `lianzheng trust add`"
        )
    state["root"] = root
    return f"{root.agency}, trust root {root.fingerprint}"


def _check_event(event: str, leaf: bytes) -> str:
    data = event.encode()
    Event.decode(data)  # canonical JSON of a well-formed event, or VerificationError
    if merkle.leaf_hash(data) != leaf:
        raise VerificationError(
            f"the event hashes to {merkle.leaf_hash(data).hex()}, not to the leaf {leaf.hex()}"
        )
    return "SHA-256(0x00 || event) equals the leaf hash"


def _check_checkpoint(receipt: dict[str, Any], root: TrustRoot, state: dict[str, Any]) -> str:
    verified = trust.verify_checkpoint(root, str(receipt["checkpoint"]))
    state["checkpoint"] = verified
    checkpoint = verified.checkpoint
    return (
        f"{checkpoint.origin} size {checkpoint.size}, signed by checkpoint key "
        f"{verified.key.key_id} ({verified.key.period()})"
    )


def _check_witnesses(root: TrustRoot, verified: VerifiedCheckpoint) -> str:
    found = trust.check_witnesses(root, verified)
    if found is None:
        raise _NotRun("no witnesses configured: the trusted root asks for none")
    return found


def _check_inclusion(receipt: dict[str, Any], leaf: bytes, verified: VerifiedCheckpoint) -> str:
    checkpoint, index = verified.checkpoint, int(receipt["leaf_index"])
    merkle.verify_inclusion(
        index,
        checkpoint.size,
        leaf,
        [_hex(h) for h in receipt["inclusion"]["proof"]],
        checkpoint.root,
    )
    return (
        f"leaf {index} is in the tree of {checkpoint.size} leaves with root {checkpoint.root.hex()}"
    )


def _check_claim(claim: dict[str, Any], root: TrustRoot, verified: VerifiedCheckpoint) -> str:
    pin = trust.pin_of_claim(
        root,
        verified.checkpoint,
        claim["chain_id"],
        claim["contract"],
        int(claim["size"]),
        _hex(claim["root"]).hex(),
    )
    if pin is None:
        raise _NotRun("the trusted root names no chain")
    return f"chain {pin.chain_id}, contract {pin.contract}"


def _chain_leg(chains: Sequence[Chain], pin: ChainPin, claim: dict[str, Any]) -> str:
    if not chains:
        raise _NotRun("anchor not checked: offline (no --rpc endpoint given)")
    return check_anchor(chain_for(pin, chains), pin, claim)


def chain_for(pin: ChainPin, chains: Sequence[Chain]) -> Chain:
    """The endpoint among `chains` that serves the pinned chain; CheckIncomplete if none does."""
    served = []
    for chain in chains:
        if chain.chain_id == pin.chain_id:
            return chain
        served.append(f"chain {chain.chain_id} at {chain.url}")
    raise CheckIncomplete(
        f"no RPC endpoint serves chain {pin.chain_id}, which the trusted root pins "
        f"(given: {'; '.join(served)})"
    )


def check_anchor(chain: Chain, pin: ChainPin, claim: dict[str, Any]) -> str:
    """That the pinned contract on the pinned chain holds `claim`'s root at its size, anchored by
    the claimed transaction in a canonical block with the root's confirmations. VerificationError
    when the chain contradicts the claim, CheckIncomplete when it cannot tell yet."""
    if chain.chain_id != pin.chain_id:
        raise CheckIncomplete(
            f"the RPC endpoint serves chain {chain.chain_id}, the trusted root pins "
            f"chain {pin.chain_id}"
        )
    if not chain.code_at(pin.contract):
        raise VerificationError(f"there is no contract at {pin.contract} on chain {chain.chain_id}")
    contract = _contract(chain, pin.contract)
    size, root = int(claim["size"]), _hex(claim["root"])
    on_chain = contract.root_at(size)
    if on_chain != root:
        held = "no root" if on_chain is None else f"root {on_chain.hex()}"
        raise VerificationError(
            f"the contract {pin.contract} holds {held} at size {size}, not {root.hex()}"
        )
    block = _anchoring_block(contract, claim)
    finalized, latest = chain.finalized_number(), chain.latest_number()
    confirmations = latest - block + 1
    if not is_final(Policy(confirmations=pin.confirmations), block, finalized, latest):
        rule = (
            f"the chain has finalized block {finalized}"
            if finalized is not None
            else f"the trusted root requires {pin.confirmations} confirmations"
        )
        raise CheckIncomplete(
            f"anchored in block {block} with {confirmations} confirmations, not final "
            f"yet ({rule}): check again later"
        )
    final = "" if finalized is None else f", final (finalized block {finalized})"
    return (
        f"checked on chain {pin.chain_id} at block {block}{_mined(chain, block)}, "
        f"{confirmations} confirmations{final}"
    )


def _mined(chain: Chain, number: int) -> str:
    """When the block was made, in UTC and in Beijing time (the block's own timestamp, a claim of
    its producer that the chain's consensus bounds)."""
    found = chain.block(number)
    if found is None:
        return ""
    when = datetime.fromtimestamp(found.timestamp, UTC)
    beijing = when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    return f" (mined {when.strftime('%Y-%m-%d %H:%M:%S')} UTC, {beijing} Beijing time)"


def _anchoring_block(contract: AnchorContract, claim: dict[str, Any]) -> int:
    """The claimed transaction's block, checked canonical and to have anchored exactly this head."""
    chain = contract.chain
    tx = claim["tx_hash"]
    mined = chain.tx_receipt(_hex(tx))
    if mined is None or not mined.succeeded:
        raise VerificationError(f"transaction {tx} is not in a block of chain {chain.chain_id}")
    if mined.block_number != int(claim["block_number"]):
        raise VerificationError(
            f"transaction {tx} is in block {mined.block_number}, the claim says "
            f"block {claim['block_number']}"
        )
    size, root = int(claim["size"]), _hex(claim["root"])
    if not any(
        e.size == size and e.root == root for e in contract.events_in_tx_receipt(mined.logs)
    ):
        raise VerificationError(
            f"transaction {tx} did not anchor size {size} in {contract.address}"
        )
    block = chain.block(mined.block_number)
    if block is None or block.hash != mined.block_hash:
        raise ChainError(f"block {mined.block_number} is no longer canonical")
    return mined.block_number


def _check_on_chain_inclusion(
    chain: Chain, pin: ChainPin, leaf: bytes, index: int, proof: list[bytes], size: int
) -> str:
    _contract(chain, pin.contract).verify_inclusion(leaf, index, size, proof)
    return "verifyInclusion returned true"


def _contract(chain: Chain, address: str) -> AnchorContract:
    """The anchor contract at `address`. web3 is loaded here, not with this module: the service's
    commands that write receipts but check none start a second sooner."""
    from anchor.contract import AnchorContract

    return AnchorContract(chain, address)
