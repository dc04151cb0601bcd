"""Anchoring benchmarks on a real anvil, printed as JSON.

    .venv/bin/python bench/anchor.py [--latency-samples 3] [--out FILE]

- gas of one anchor (with its on-chain consistency proof) by log size, 10^3 to
  10^9 leaves, and at 2^32 - 1 leaves with the longest proof of that size;
- gas per record at batches of 1, 100, 10,000 and 1,000,000 records, against the
  naive design of one transaction per record (a contract storing each hash),
  measured on the same anvil;
- latency from an event's append to its anchor being final, with the default
  settings (anchor every 30 s, the embedded anvil).
Goals: at 10,000 records per batch at least 1,000x less gas per record
than the naive design; a full anchor under 100,000 gas up to 2^32 leaves.

Logs of 10^9 leaves are not built: every leaf is the same hash, so every perfect
subtree of height k has one hash, h_k, and roots and proofs of any size cost
O(log^2 n) hashes. The contract sees ordinary RFC 9162 trees and proofs.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from anchor.account import development_account  # noqa: E402
from anchor.chain import Chain  # noqa: E402
from anchor.contract import AnchorContract, deploy  # noqa: E402
from anchor.local import LocalChain  # noqa: E402
from anchor.models import AnchorRecord, AnchorStatus  # noqa: E402
from bench import figures as figures_io  # noqa: E402
from ledger import merkle  # noqa: E402
from verify_portal.app import anchor_target, anchored  # noqa: E402
from verify_portal.app.services import build, migrate  # noqa: E402
from verify_portal.app.settings import Settings  # noqa: E402

NAIVE_SOURCE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;
/// Baseline for bench/anchor.py only: one transaction and one storage slot per record.
contract NaiveAnchor {
    event Recorded(bytes32 indexed leafHash);
    mapping(bytes32 => uint256) public recordedAt;
    function record(bytes32 leafHash) external {
        recordedAt[leafHash] = block.number;
        emit Recorded(leafHash);
    }
}
"""


class UniformTree:
    """An RFC 9162 tree whose leaves all have one hash: node hashes depend on the level only."""

    def __init__(self) -> None:
        self.levels = [merkle.leaf_hash(b"lianzheng bench leaf")]
        for _ in range(64):
            self.levels.append(merkle.node_hash(self.levels[-1], self.levels[-1]))

    def __getitem__(
        self, node: merkle.NodeId
    ) -> bytes:  # the node mapping merkle.hash_ranges reads
        return self.levels[node.level]

    def root(self, size: int) -> bytes:
        return merkle.fold_range([self[n] for n in merkle.range_nodes(0, size)])

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        ranges = merkle.consistency_ranges(size1, size2)
        return merkle.hash_ranges(ranges, self)  # type: ignore[arg-type]


def send(chain: Chain, call) -> int:  # type: ignore[no-untyped-def]
    """Send a contract call (a web3 ContractFunction) from anvil's first account; its gas used."""
    account = development_account(0)
    fees = chain.fees()
    tx = call.build_transaction(
        {
            "from": account.address,
            "nonce": chain.nonce(account.address),
            "gas": 2 * call.estimate_gas({"from": account.address}),
            "chainId": chain.chain_id,
            "maxFeePerGas": fees.max_fee,
            "maxPriorityFeePerGas": fees.priority_fee,
        }
    )
    signed = account.sign_transaction(tx)
    chain.send_raw(bytes(signed.raw_transaction))
    receipt = chain.w3.eth.wait_for_transaction_receipt(signed.hash, timeout=60)
    assert receipt["status"] == 1
    return int(receipt["gasUsed"])


def anchor_gas(chain: Chain, tree: UniformTree, size1: int, size2: int) -> tuple[int, int]:
    """Gas of anchoring size2 on a fresh contract whose latest anchor is size1; and the proof
    length."""
    contract = AnchorContract(chain, deploy(chain, development_account(0))[0])
    send(chain, contract.functions.anchor(size1, tree.root(size1), []))
    proof = tree.consistency(size1, size2)
    return send(chain, contract.functions.anchor(size2, tree.root(size2), proof)), len(proof)


def longest_proof_start(size2: int, tries: int = 4000) -> int:
    """Among random earlier sizes, one whose consistency proof to size2 is longest."""
    rng = random.Random(9162)
    candidates = [rng.randrange(1, size2) for _ in range(tries)] + [size2 - 1, (size2 - 1) // 3]
    return max(candidates, key=lambda m: len(merkle.consistency_ranges(m, size2)))


def naive_gas(chain: Chain, workdir: Path) -> int:
    """Gas of one naive record transaction (not the first write of the slot's contract)."""
    source = workdir / "NaiveAnchor.sol"
    source.write_text(NAIVE_SOURCE)
    subprocess.run(
        ["node", str(ROOT / "contracts" / "compile.mjs"), "--out", str(workdir), str(source)],
        check=True,
    )
    artifact = json.loads((workdir / "NaiveAnchor.json").read_text())
    account = development_account(0)
    factory = chain.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    fees = chain.fees()
    tx = factory.constructor().build_transaction(
        {
            "from": account.address,
            "nonce": chain.nonce(account.address),
            "chainId": chain.chain_id,
            "maxFeePerGas": fees.max_fee,
            "maxPriorityFeePerGas": fees.priority_fee,
        }
    )
    signed = account.sign_transaction(tx)
    chain.send_raw(bytes(signed.raw_transaction))
    address = chain.w3.eth.wait_for_transaction_receipt(signed.hash)["contractAddress"]
    naive = chain.w3.eth.contract(address=address, abi=artifact["abi"])
    gases = [
        send(chain, naive.functions.record(merkle.leaf_hash(b"record %d" % i))) for i in range(5)
    ]
    return int(statistics.median(gases))


def gas_figures(chain: Chain, workdir: Path) -> dict:
    tree = UniformTree()
    by_size = {}
    for exponent in range(3, 10):
        size = 10**exponent
        gas, length = anchor_gas(chain, tree, size - min(10_000, size // 2), size)
        by_size[f"1e{exponent}"] = {"size": size, "gas": gas, "proof_hashes": length}
    worst_to = 2**32 - 1
    worst_from = longest_proof_start(worst_to)
    gas, length = anchor_gas(chain, tree, worst_from, worst_to)
    worst = {"from": worst_from, "to": worst_to, "gas": gas, "proof_hashes": length}

    naive = naive_gas(chain, workdir)
    per_record = {}
    for batch in (1, 100, 10_000, 1_000_000):
        gas, length = anchor_gas(chain, tree, 10_000_000, 10_000_000 + batch)
        per_record[str(batch)] = {
            "anchor_gas": gas,
            "gas_per_record": gas / batch,
            "naive_gas_per_record": naive,
            "saving_vs_naive": round(naive * batch / gas, 1),
        }
    return {
        "gas_per_anchor_by_log_size": by_size,
        "gas_per_anchor_longest_proof_2^32": worst,
        "gas_per_record_by_batch_on_a_log_of_1e7": per_record,
        "goals": {
            "saving_at_10000_per_batch_x": per_record["10000"]["saving_vs_naive"],
            "saving_goal_x": 1000,
            "max_anchor_gas_up_to_2^32": max([worst["gas"], *(v["gas"] for v in by_size.values())]),
            "anchor_gas_goal": 100_000,
        },
    }


def latency_figures(workdir: Path, samples: int) -> dict:
    """Append one event at a random moment, time until its anchor is final, default settings."""
    settings = Settings.from_env({"LIANZHENG_DATA_DIR": str(workdir / "latency")})
    services = build(settings)
    migrate(services.engine)
    target, stop_chain = anchor_target.connect(settings)
    worker = anchored.worker(services, target)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    rng = random.Random(3)
    latencies = []
    try:
        for _ in range(samples):
            time.sleep(rng.uniform(0, settings.chain.anchor_interval))
            with services.store.transaction(services.sessions) as tx:
                size = tx.size
                tx.append([(b'{"bench":%d}' % size, None)])
            appended = time.monotonic()
            while not _final_covering(services, size):
                time.sleep(0.05)
            latencies.append(time.monotonic() - appended)
    finally:
        stop.set()
        thread.join(10)
        if stop_chain:
            stop_chain()
    return {
        "interval_s": settings.chain.anchor_interval,
        "samples": [round(x, 2) for x in latencies],
        "mean_s": round(statistics.mean(latencies), 2),
        "max_s": round(max(latencies), 2),
    }


def _final_covering(services, index: int) -> bool:  # type: ignore[no-untyped-def]
    with services.sessions() as session:
        return (
            session.query(AnchorRecord)
            .filter(AnchorRecord.size > index, AnchorRecord.status == AnchorStatus.FINAL)
            .count()
            > 0
        )


def main() -> None:
    parser = figures_io.parser(__doc__)
    parser.add_argument("--latency-samples", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        local = LocalChain(workdir / "gas-chain")
        running, _ = local.up()
        try:
            figures = {"benchmark": "anchor", "gas": gas_figures(Chain(running.rpc_url), workdir)}
        finally:
            local.down()
        if args.latency_samples:
            figures["latency_append_to_final"] = latency_figures(workdir, args.latency_samples)
    figures_io.emit(figures, args.out)


if __name__ == "__main__":
    main()
