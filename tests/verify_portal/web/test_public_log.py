"""The public log browser: checkpoints with witnesses, anchors with transactions, any leaf's
inclusion proof, without signing in and without an event's content or anyone's name."""

import re

from ledger import merkle
from tests.support.api import PARTY, open_case


def _hashes(html):
    return re.findall(r"<li><code>([0-9a-f]{64})</code></li>", html)


def test_anyone_sees_the_latest_checkpoints_without_signing_in(client, tokens):
    case_no = open_case(client, tokens["officer"], party=PARTY)
    page = client.get("/log").get_data(as_text=True)
    assert 'id="checkpoints"' in page and "尚无见证" in page and "尚未上链。" in page
    assert case_no not in page and "officer-1" not in page and PARTY["name"] not in page


def test_a_leafs_page_gives_a_proof_that_leads_to_the_shown_root(client, tokens):
    for _ in range(5):
        open_case(client, tokens["officer"])
    page = client.get("/log/leaves/2").get_data(as_text=True)
    leaf_hash = re.search(r"叶哈希</dt><dd><code>([0-9a-f]{64})", page)[1]
    root = re.search(r"根哈希</dt><dd><code>([0-9a-f]{64})", page)[1]
    proof = [bytes.fromhex(h) for h in _hashes(page[page.index('id="proof"') :])]
    computed = merkle.root_from_inclusion_proof(2, 5, bytes.fromhex(leaf_hash), proof)
    assert computed.hex() == root
    assert "CG-2026" not in page and "officer-1" not in page  # hashes only


def test_the_index_box_opens_a_leaf_and_explains_a_bad_index(client, tokens):
    open_case(client, tokens["officer"])
    found = client.get("/log/leaf?index=0")
    assert found.status_code == 303 and found.headers["Location"].startswith("/log/leaves/0")
    for typed in ("-1", "abc", "9" * 30):
        bad = client.get(f"/log/leaf?index={typed}&lang=en")
        assert bad.status_code == 400 and "Type a whole number" in bad.get_data(as_text=True)
    missing = client.get("/log/leaves/7?lang=en")
    assert missing.status_code == 404 and "no record at this index" in missing.get_data(
        as_text=True
    )


def test_anchors_are_listed_with_their_transactions(exported):
    client = exported["client"]
    page = client.get("/log").get_data(as_text=True)
    anchors = page[page.index('id="anchors"') :]
    assert re.search(r"<code>0x[0-9a-f]{64}</code>", anchors) and "31337" in page
    leaf = client.get("/log/leaves/0").get_data(as_text=True)
    assert "已上链，区块" in leaf and "/api/v1/log/receipt?index=0" in leaf
