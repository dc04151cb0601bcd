"""The browser's receipt check (static/receipt-check.js), run by Node's WebCrypto: RFC 9162 vectors,
the trust root's fingerprint and real receipts agree with the Python verifier; tampered receipts,
and ones a server forged consistently, are refused naming the check."""

import json
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import merkle
from ledger.checkpoint import CheckpointSigner
from ledger.cosignature import cosign
from ledger.models import Leaf
from tests.support.trust import Deployment
from tests.support.vectors import VECTORS, cases
from verify_portal.app import anchored

SCRIPT = (
    Path(__file__).resolve().parents[3] / "verify_portal" / "web" / "static" / "receipt-check.js"
)


def _node(program: str, data: object) -> object:
    done = subprocess.run(
        ["node", "--input-type=module", "-e", program],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_browser_check_agrees_with_every_rfc9162_inclusion_vector():
    vectors = [c.values[0] for c in cases("inclusion")]
    program = f"""
import {{ rootFromInclusion }} from {json.dumps(SCRIPT.as_uri())};
import {{ readFileSync }} from "node:fs";
const b64 = (s) => Uint8Array.from(Buffer.from(s || "", "base64"));
const same = (a, b) => a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
const out = [];
for (const v of JSON.parse(readFileSync(0, "utf8"))) {{
  const proof = (v.proof || []).map(b64);
  const root = await rootFromInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), proof);
  out.push(same(root, b64(v.root)));
}}
console.log(JSON.stringify(out));
"""
    accepted = _node(program, vectors)
    assert len(accepted) == 98 and VECTORS.exists()
    assert accepted == [not v["wantErr"] for v in vectors]


def _check(receipts, root):
    program = f"""
import {{ checkReceipt, fingerprint }} from {json.dumps(SCRIPT.as_uri())};
import {{ readFileSync }} from "node:fs";
const {{ receipts, root }} = JSON.parse(readFileSync(0, "utf8"));
const out = {{ fingerprint: await fingerprint(root), results: [] }};
for (const r of receipts) out.results.push(await checkReceipt(r, root));
console.log(JSON.stringify(out));
"""
    return _node(program, {"receipts": receipts, "root": root})


def _receipts(exported):
    services = exported["services"]
    with services.sessions() as session:
        indexes = [
            i for (i,) in session.query(Leaf.leaf_index).filter(Leaf.case_no == exported["case_no"])
        ]
    receipts, _ = anchored.receipts(services, indexes, with_events=True)
    assert receipts
    return receipts


def test_the_browser_computes_the_trust_roots_fingerprint_as_the_python_verifier_does(exported):
    root = exported["services"].trust.latest()
    assert _check([], root.document)["fingerprint"] == root.fingerprint


def test_real_receipts_pass_against_the_deployments_root(exported):
    root = exported["services"].trust.latest().document
    results = _check(_receipts(exported), root)["results"]
    assert all(r["ok"] for r in results), results
    assert {r["anchor"]["state"] for r in results} == {"not-checked"}  # no public RPC given
    # The root lists an SM2 checkpoint key; WebCrypto has none, so the browser says it did not
    # check that line rather than passing it.
    sm2_from = min(k["valid_from_size"] for k in root["checkpoint_keys"] if k["algorithm"] == "sm2")
    for receipt, result in zip(_receipts(exported), results, strict=True):
        size = int(receipt["checkpoint"].split("\n")[1])
        assert result["sm2"] == ("not-checked" if size >= sm2_from else "none")


def test_tampered_receipts_fail_with_the_check_named(exported):
    receipts = _receipts(exported)
    root = exported["services"].trust.latest().document
    forged_event = dict(receipts[0], event=receipts[0]["event"].replace('"seq":0', '"seq":9'))
    forged_proof = json.loads(json.dumps(receipts[-1]))
    forged_proof["inclusion"]["proof"] = ["00" * 32, *forged_proof["inclusion"]["proof"][1:]] or [
        "00" * 32
    ]
    results = _check([forged_event, forged_proof], root)["results"]
    assert results[0] == {"ok": False, "code": "event", "check": "event hashes to the leaf"}
    assert results[1] == {
        "ok": False,
        "code": "inclusion",
        "check": "inclusion proof leads to the checkpoint's root",
    }


def test_a_receipt_forged_consistently_by_the_server_fails_on_the_checkpoint_signature(exported):
    receipt = _receipts(exported)[0]
    event = receipt["event"]
    leaves = [merkle.leaf_hash(event.encode()), merkle.leaf_hash(b"made up")]
    root_hash = merkle.root_from_leaves(leaves)
    stranger = CheckpointSigner(exported["services"].store.origin, Ed25519PrivateKey.generate())
    forged = dict(
        receipt,
        leaf_index=0,
        leaf_hash=leaves[0].hex(),
        checkpoint=stranger.sign(2, root_hash),
        inclusion={"size": 2, "root": root_hash.hex(), "proof": [leaves[1].hex()]},
        anchor=dict(receipt["anchor"], size=2, root=root_hash.hex(), block_number=999999),
    )
    [result] = _check([forged], exported["services"].trust.latest().document)["results"]
    assert result == {
        "ok": False,
        "code": "unknown-key",
        "check": "the checkpoint is not signed by a key of the trust root",
    }


def test_a_checkpoint_key_outside_its_sizes_is_refused_by_the_browser(exported):
    receipt = _receipts(exported)[0]
    root = json.loads(exported["services"].trust.latest_text())
    size = int(receipt["checkpoint"].split("\n")[1])
    root["checkpoint_keys"][0]["valid_until_size"] = (
        size  # a root in which that key stopped below this size
    )
    [result] = _check([receipt], root)["results"]
    assert result == {
        "ok": False,
        "code": "key-period",
        "check": "the checkpoint key is not valid for this size",
    }


def _witnessed_receipt(deployment, cosigners, body_for=None):
    event = '{"type":"case.reported"}'
    leaves = [merkle.leaf_hash(event.encode()), merkle.leaf_hash(b"another event")]
    root_hash = merkle.root_from_leaves(leaves)
    note = deployment.signer.sign(2, root_hash)
    body = note.split("\n\n")[0] + "\n"
    for name, key in cosigners:
        note += cosign(key, name, body_for or body, 1_790_000_000)
    return {
        "event": event,
        "leaf_index": 0,
        "leaf_hash": leaves[0].hex(),
        "checkpoint": note,
        "inclusion": {"size": 2, "root": root_hash.hex(), "proof": [leaves[1].hex()]},
        "anchor": {"tx_hash": "0x" + "ab" * 32},
    }


def test_the_browser_counts_the_roots_witnesses_against_its_quorum():
    keys = [Ed25519PrivateKey.generate() for _ in range(3)]
    names = ["court.example/w1", "notary.example/w2", "justice.example/w3"]
    deployment = Deployment(witnesses=list(zip(names, keys, strict=True)), witness_quorum=2)
    enough = _witnessed_receipt(deployment, [(names[0], keys[0]), (names[2], keys[2])])
    too_few = _witnessed_receipt(deployment, [(names[1], keys[1])])
    forged = _witnessed_receipt(deployment, [(names[0], keys[0])], body_for="another body\n")
    stranger = _witnessed_receipt(
        deployment, [(names[0], keys[0]), (names[1], Ed25519PrivateKey.generate())]
    )
    results = _check([enough, too_few, forged, stranger], deployment.document())["results"]
    assert results[0]["ok"] and results[0]["check"] == "signed, witnessed and included"
    assert [w["name"] for w in results[0]["witnessed"]["cosigned"]] == [names[0], names[2]]
    assert results[0]["witnessed"]["cosigned"][0]["time"] == "2026-09-21T14:13:20.000Z"
    assert results[1] == {
        "ok": False,
        "code": "witness-quorum",
        "check": "1 of the 2 cosignatures the trust root requires",
    }
    assert results[2]["code"] == "witness-signature" and names[0] in results[2]["check"]
    assert results[3]["code"] == "witness-quorum"  # a stranger's key under a witness's name
