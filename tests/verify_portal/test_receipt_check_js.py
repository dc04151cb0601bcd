"""The browser's receipt check (static/receipt-check.js), run by Node's WebCrypto: RFC 9162 vectors and
real receipts agree with the Python verifier, tampered receipts are refused naming the check."""

import json
import subprocess
from pathlib import Path

from tests.ledger.test_conformance import VECTORS, _cases
from verify_portal import anchoring

SCRIPT = Path(__file__).resolve().parents[2] / "verify_portal" / "static" / "receipt-check.js"


def _node(program: str, data: object) -> object:
    done = subprocess.run(["node", "--input-type=module", "-e", program], input=json.dumps(data),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_browser_check_agrees_with_every_rfc9162_inclusion_vector():
    vectors = [c.values[0] for c in _cases("inclusion")]
    program = f"""
import {{ rootFromInclusion }} from {json.dumps(SCRIPT.as_uri())};
import {{ readFileSync }} from "node:fs";
const b64 = (s) => Uint8Array.from(Buffer.from(s || "", "base64"));
const same = (a, b) => a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
const out = [];
for (const v of JSON.parse(readFileSync(0, "utf8"))) {{
  const root = await rootFromInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), (v.proof || []).map(b64));
  out.push(same(root, b64(v.root)));
}}
console.log(JSON.stringify(out));
"""
    accepted = _node(program, vectors)
    assert len(accepted) == 98 and VECTORS.exists()
    assert accepted == [not v["wantErr"] for v in vectors]


def test_real_receipts_pass_and_tampered_ones_fail_with_the_check_named(exported):
    services = exported["services"]
    with services.sessions() as session:
        from ledger.models import Leaf
        indexes = [i for (i,) in session.query(Leaf.leaf_index).filter(Leaf.case_no == exported["case_no"])]
    receipts, _ = anchoring.receipts(services, indexes, with_events=True)
    assert receipts
    forged_event = dict(receipts[0], event=receipts[0]["event"].replace('"seq":0', '"seq":9'))
    forged_proof = json.loads(json.dumps(receipts[-1]))
    if forged_proof["inclusion"]["proof"]:
        forged_proof["inclusion"]["proof"][0] = "00" * 32
    else:
        forged_proof["anchor"]["root"] = forged_proof["inclusion"]["root"] = "00" * 32
    program = f"""
import {{ checkReceipt }} from {json.dumps(SCRIPT.as_uri())};
import {{ readFileSync }} from "node:fs";
const out = [];
for (const r of JSON.parse(readFileSync(0, "utf8"))) out.push(await checkReceipt(r));
console.log(JSON.stringify(out));
"""
    results = _node(program, [*receipts, forged_event, forged_proof])
    assert all(r["ok"] for r in results[:-2])
    assert results[-2] == {"ok": False, "check": "event hashes to the leaf"}
    assert results[-1]["ok"] is False and results[-1]["check"] == "inclusion proof leads to the anchored root"
