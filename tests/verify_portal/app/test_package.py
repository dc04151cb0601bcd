"""Evidence packages end to end: export a real anchored case, verify it against the deployment's
trust root on the real chain, and refuse packages forged by anyone who does not hold the
deployment's keys.

The checks one by one, on packages built in memory, are in tests/evidence/test_verify.py.
"""

import json
import subprocess
import sys
import zipfile

from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from anchor.account import development_account
from anchor.chain import Chain
from anchor.contract import AnchorContract, deploy
from anchor.receipt import chain_for, check_anchor
from evidence import verify as verifier
from ledger import merkle, trust
from ledger.checkpoint import CheckpointSigner
from ledger.users import Role
from ledger.verdict import Status, Verdict
from tests.chain_fixtures import free_port
from tests.support.packages import build, entries, insider, named, rewrite
from tests.support.trust import Deployment
from verify_portal.cli import main


def _root(exported):
    return exported["services"].trust.latest()


def _verify(path, root, chain=None):
    check = (
        None
        if chain is None
        else (lambda pin, claim: check_anchor(chain_for(pin, [chain]), pin, claim))
    )
    return verifier.verify(str(path), trust.TrustRoots([root]), check)


def _failed(report):
    return [c.name for c in report.checks if c.status == Status.FAIL]


def test_an_exported_package_verifies_against_the_deployments_root_on_chain(exported):
    report = _verify(exported["path"], _root(exported), exported["chain"])
    assert report.verdict == Verdict.VERIFIED, report.to_json()
    assert [c.name for c in report.checks] == [n for n, _, _ in verifier.CHECKS]
    anchor = report.check("anchor").detail
    assert anchor.startswith("checked on chain 31337 at block") and "confirmations" in anchor
    assert (
        "上链后未被篡改" in report.statement()
        and "does not prove that the content was authentic" in report.statement()
    )
    assert exported["summary"]["evidence"] == 4 and exported["summary"]["events"] >= 5
    assert exported["summary"]["trust_root"] == _root(exported).fingerprint


def test_without_a_chain_the_anchor_is_not_checked_and_not_claimed(exported):
    report = _verify(exported["path"], _root(exported))
    assert report.verdict == Verdict.VERIFIED and report.check("anchor").status == Status.NOT_RUN
    assert "anchor not checked" in report.statement()


def test_the_export_is_a_custody_event_in_the_log(exported):
    client, tokens = exported["client"], exported["tokens"]
    listed = client.get(
        f"/api/v1/cases/{exported['case_no']}/evidence",
        headers={"Authorization": f"Bearer {tokens[Role.SUPERVISOR]}"},
    ).json["evidence"]
    trail = client.get(
        f"/api/v1/evidence/{listed[0]['evidence_id']}/custody",
        headers={"Authorization": f"Bearer {tokens[Role.SUPERVISOR]}"},
    ).json["custody"]
    assert any(e.get("action") == "export" and e["actor"] == "supervisor-1" for e in trail)


def test_an_anchor_pointed_at_another_block_fails_on_chain(exported, tmp_path):
    found = entries(exported["path"])
    anchor = json.loads(found[named(found, "anchor.json")])
    anchor["block_number"] -= 1
    found[named(found, "anchor.json")] = json.dumps(anchor).encode()
    report = _verify(
        rewrite(found, tmp_path / "t.zip", **insider(exported["services"])),
        _root(exported),
        exported["chain"],
    )
    assert _failed(report) == ["anchor"] and "is in block" in report.check("anchor").detail


def test_a_forgery_anchored_on_the_forgers_own_contract_is_not_verified(exported, tmp_path):
    chain = exported["chain"]
    forger_contract = AnchorContract(chain, deploy(chain, development_account(3))[0])
    forger = Deployment(contract=forger_contract.address, origin=_root(exported).log_origin)
    forged = build(forger, tmp_path / "forged.zip")
    _anchor(chain, forger_contract, forged.size, forged.root)
    own = _verify(forged.path, forger.root(), None)
    assert own.passed  # consistent in itself, anchored for real: only the trust root tells it apart
    report = _verify(forged.path, _root(exported), chain)
    assert report.verdict == Verdict.NOT_VERIFIED
    assert {"signature", "checkpoint"} <= set(_failed(report))
    assert "does not list" in report.check("checkpoint").detail


def _anchor(chain, contract, size, root):
    account = development_account(3)
    fees = chain.fees()
    tx = contract.anchor_transaction(
        size, root, [], account.address, chain.nonce(account.address), fees
    )
    chain.send_raw(bytes(account.sign_transaction(tx).raw_transaction))
    chain.rpc("anvil_mine", ["0x10"])
    assert contract.root_at(size) == root


def test_the_package_holds_its_report_and_the_trust_root_it_was_made_under(exported):
    found = entries(exported["path"])
    pdf = found[named(found, "report.pdf")]
    assert pdf.startswith(b"%PDF-") and b"WenQuanYi" in pdf  # the font travels with the report
    html_report = found[named(found, "report.html")].decode()
    fingerprint = _root(exported).fingerprint
    assert (
        "上链后未被篡改" in html_report
        and exported["case_no"] in html_report
        and fingerprint in html_report
    )
    assert trust.fingerprint(json.loads(found[named(found, "trust-root.json")])) == fingerprint
    assert f"Lianzheng-Trust-Root: {fingerprint}" in found[named(found, "bag-info.txt")].decode()


# --- the command line --------------------------------------------------------------------------


def _root_file(exported, tmp_path):
    path = tmp_path / "root.json"
    path.write_text(exported["services"].trust.latest_text())
    return path


def test_the_cli_verifies_against_a_trust_file_writes_reports_and_exits_0(
    exported, tmp_path, anvil
):
    result = CliRunner().invoke(
        main,
        [
            "verify",
            str(exported["path"]),
            "--trust",
            str(_root_file(exported, tmp_path)),
            "--rpc",
            anvil.url,
            "--json",
            str(tmp_path / "r.json"),
            "--html",
            str(tmp_path / "r.html"),
            "--pdf",
            str(tmp_path / "r.pdf"),
        ],
    )
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "r.json").read_text())
    assert (
        saved["verdict"] == "VERIFIED"
        and saved["root"]["fingerprint"] == _root(exported).fingerprint
    )
    assert "核验" in (tmp_path / "r.html").read_text()
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")


def test_the_cli_exit_codes_say_not_verified_usage_and_incomplete(exported, tmp_path):
    root = str(_root_file(exported, tmp_path))
    (tmp_path / "bad.zip").write_bytes(exported["path"].read_bytes()[:1000])
    assert (
        CliRunner().invoke(main, ["verify", str(tmp_path / "bad.zip"), "--trust", root]).exit_code
        == 1
    )
    empty_store = {"LIANZHENG_TRUST_STORE": str(tmp_path / "no-store")}
    usage = CliRunner().invoke(main, ["verify", str(exported["path"])], env=empty_store)
    assert usage.exit_code == 2 and "no trusted roots" in usage.output
    down = f"http://127.0.0.1:{free_port()}"
    incomplete = CliRunner().invoke(
        main, ["verify", str(exported["path"]), "--trust", root, "--rpc", down]
    )
    assert incomplete.exit_code == 3, incomplete.output
    assert "INCOMPLETE" in incomplete.output and "unreachable" in incomplete.output


def test_another_agencys_package_verifies_only_after_trust_add_with_the_right_fingerprint(tmp_path):
    other = Deployment(origin="other-city.example/cg-log", agency="另一城管局 Another bureau")
    package = build(other, tmp_path / "other.zip").path
    root_file = tmp_path / "other-root.json"
    root_file.write_text(json.dumps(other.document(), ensure_ascii=False))
    env = {"LIANZHENG_TRUST_STORE": str(tmp_path / "store")}
    runner = CliRunner()
    before = runner.invoke(main, ["verify", str(package)], env=env)
    assert before.exit_code == 2 and "no trusted roots" in before.output
    wrong = runner.invoke(
        main, ["trust", "add", str(root_file), "--fingerprint", "ab" * 32], env=env
    )
    assert wrong.exit_code == 1 and "refused" in wrong.output
    declined = runner.invoke(main, ["trust", "add", str(root_file)], input="n\n", env=env)
    assert declined.exit_code != 0 and other.root().fingerprint in declined.output
    added = runner.invoke(
        main, ["trust", "add", str(root_file), "--fingerprint", other.root().fingerprint], env=env
    )
    assert added.exit_code == 0 and "trusted" in added.output, added.output
    listed = runner.invoke(main, ["trust", "list"], env=env)
    assert (
        other.root().fingerprint in listed.output and "other-city.example/cg-log" in listed.output
    )
    after = runner.invoke(main, ["verify", str(package)], env=env)
    assert after.exit_code == 0 and "VERIFIED" in after.output, after.output
    forged = build(Deployment(origin=other.origin), tmp_path / "forged.zip").path
    assert runner.invoke(main, ["verify", str(forged)], env=env).exit_code == 1
    assert (
        runner.invoke(main, ["trust", "remove", "other-city.example/cg-log"], env=env).exit_code
        == 0
    )
    assert runner.invoke(main, ["verify", str(package)], env=env).exit_code == 2


def test_a_court_exports_through_the_api_once_an_anchor_covers_the_case(exported, tmp_path):
    client, tokens = exported["client"], exported["tokens"]
    court = {"Authorization": f"Bearer {tokens[Role.COURT]}"}
    waiting = client.post(f"/api/v1/cases/{exported['case_no']}/exports", headers=court)
    assert (
        waiting.status_code == 409 and "not anchored yet" in waiting.json["detail"]
    )  # the first export's events
    exported["worker"].cycle()
    r = client.post(
        f"/api/v1/cases/{exported['case_no']}/exports",
        json={"reason": "litigation"},
        headers={"Authorization": f"Bearer {tokens[Role.COURT]}"},
    )
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert r.headers["Lianzheng-Signing-Key-Id"] == trust.package_key_id(
        exported["services"].trust.package_ring.first.public_key().public_bytes_raw()
    )
    (tmp_path / "court.zip").write_bytes(r.data)
    assert _verify(tmp_path / "court.zip", _root(exported)).passed
    denied = client.post(
        f"/api/v1/cases/{exported['case_no']}/exports",
        headers={"Authorization": f"Bearer {tokens[Role.OFFICER]}"},
    )
    assert denied.status_code == 403


def test_the_cli_exports_with_a_progress_bar_and_verifies_against_the_exported_root(
    exported, tmp_path
):
    settings = exported["services"].settings
    env = {
        "LIANZHENG_DATA_DIR": str(settings.data_dir),
        "LIANZHENG_RPC_URL": settings.chain.rpc_url or "",
        "LIANZHENG_CHAIN_ID": "31337",
        "LIANZHENG_CONTRACT_ADDRESS": settings.chain.contract_address or "",
    }
    exported["worker"].cycle()  # anchor whatever earlier exports appended
    out = tmp_path / "cli.zip"
    result = CliRunner().invoke(
        main,
        ["export", exported["case_no"], "-o", str(out), "--as", "supervisor-1", "--wait", "0"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert (
        "packaging" in result.output
        and json.loads(result.output.strip().splitlines()[-1])["evidence"] == 4
    )
    assert not (tmp_path / "cli.zip.partial").exists()
    root = tmp_path / "root.json"
    assert CliRunner().invoke(main, ["trust", "export", "-o", str(root)], env=env).exit_code == 0
    printed = CliRunner().invoke(main, ["trust", "fingerprint"], env=env).output.strip()
    assert printed == trust.TrustRoot.parse(root.read_bytes()).fingerprint
    checked = CliRunner().invoke(main, ["verify", str(out), "--trust", str(root)], env=env)
    assert checked.exit_code == 0, checked.output
    assert "VERIFIED" in checked.output and printed in checked.output
    waiting = CliRunner().invoke(
        main,
        [
            "export",
            exported["case_no"],
            "-o",
            str(tmp_path / "again.zip"),
            "--as",
            "supervisor-1",
            "--wait",
            "0",
        ],
        env=env,
    )
    assert waiting.exit_code == 1 and "not anchored yet" in waiting.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cli.zip",
        "root.json",
    ]  # no half-written package


def test_a_package_zip_is_a_bagit_bag_with_the_signing_time_in_bag_info(exported):
    with zipfile.ZipFile(exported["path"]) as z:
        info = next(z.read(n) for n in z.namelist() if n.endswith("bag-info.txt")).decode()
    assert "Lianzheng-Signed-At: " in info and "Payload-Oxum: " in info


def test_a_node_of_the_same_chain_id_without_the_pinned_contract_fails_the_anchor(
    exported, private_anvil
):
    other = Chain(private_anvil.url)  # chain id 31337 too, but not the contract's chain state
    report = _verify(exported["path"], _root(exported), other)
    assert _failed(report) == ["anchor"] and "there is no contract" in report.check("anchor").detail


def test_the_cli_says_not_verified_for_a_re_signed_package_with_an_edited_report(
    exported, tmp_path
):
    found = entries(exported["path"])
    report = named(found, "report.html")
    found[report] = found[report].replace(b"</body>", b"<p>No penalty. Case closed.</p></body>")
    forged = rewrite(found, tmp_path / "forged.zip", Ed25519PrivateKey.generate())
    result = CliRunner().invoke(
        main, ["verify", str(forged), "--trust", str(_root_file(exported, tmp_path))]
    )
    assert result.exit_code == 1 and "NOT VERIFIED" in result.output
    assert "does not list" in result.output  # the stranger's key, recomputed, is named


def test_the_cli_exits_1_not_a_crash_on_200000_deep_json(exported, tmp_path):
    found = entries(exported["path"])
    found[named(found, "signature.json")] = b"[" * 200_000 + b"]" * 200_000
    deep = rewrite(found, tmp_path / "deep.zip")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "verify_portal",
            "verify",
            str(deep),
            "--trust",
            str(_root_file(exported, tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "nests deeper than" in done.stdout


def test_verify_receipt_names_the_key_of_a_consistently_forged_receipt(exported, tmp_path):
    client = exported["client"]
    genuine = client.get("/api/v1/log/receipt?index=0").json
    leaves = [merkle.leaf_hash(b'{"made":"up"}'), merkle.leaf_hash(b"another")]
    root_hash = merkle.root_from_leaves(leaves)
    stranger = CheckpointSigner(exported["services"].store.origin, Ed25519PrivateKey.generate())
    forged = dict(
        genuine,
        leaf_index=0,
        leaf_hash=leaves[0].hex(),
        checkpoint=stranger.sign(2, root_hash),
        inclusion={"size": 2, "root": root_hash.hex(), "proof": [leaves[1].hex()]},
        anchor=dict(genuine["anchor"], size=2, root=root_hash.hex(), block_number=999999),
    )
    path = tmp_path / "forged-receipt.json"
    path.write_text(json.dumps(forged))
    result = CliRunner().invoke(
        main, ["verify-receipt", str(path), "--trust", str(_root_file(exported, tmp_path))]
    )
    assert result.exit_code == 1 and "receipt NOT VERIFIED" in result.output
    assert stranger.note_key_id.hex() in result.output and "does not list" in result.output


def _intake_entry(found):
    [name] = [n for n in found if "/data/intake/" in n]
    return name


def test_docked_footage_linked_to_the_case_is_checked_against_its_intake_registration(exported):
    report = _verify(exported["path"], _root(exported))
    assert "with 1 intake registrations of linked footage" in report.check("inclusion").detail
    assert report.check("evidence").detail.startswith("4 evidence files and their records match")


def test_a_docked_items_capture_time_rewritten_by_an_insider_is_not_verified(exported, tmp_path):
    """The record of linked footage is checked against its intake registration, the only leaf
    that says when the recorder captured it."""
    found = entries(exported["path"])
    intake = json.loads(found[_intake_entry(found)])
    name = named(found, f"evidence/{intake['payload']['evidence_id']}.json")
    record = json.loads(found[name])
    record["captured_at"] = "2020-01-01T00:00:00.000000Z"
    found[name] = json.dumps(record).encode()
    report = _verify(
        rewrite(found, tmp_path / "t.zip", **insider(exported["services"])), _root(exported)
    )
    assert report.verdict == Verdict.NOT_VERIFIED and _failed(report) == ["evidence"]
    assert "says otherwise than the log about captured_at" in report.check("evidence").detail


def test_a_package_without_the_intake_registration_a_link_names_is_not_verified(exported, tmp_path):
    found = entries(exported["path"])
    del found[_intake_entry(found)]
    report = _verify(
        rewrite(found, tmp_path / "t.zip", **insider(exported["services"])), _root(exported)
    )
    assert report.verdict == Verdict.NOT_VERIFIED
    assert _failed(report) == ["evidence"]
    assert "which the package does not hold" in report.check("evidence").detail


def test_a_linked_file_swapped_with_its_registration_rewritten_is_not_verified(exported, tmp_path):
    """An insider with the package key swaps the docked photo and rewrites its intake registration
    to match: the registration is no longer the leaf the log holds."""
    found = entries(exported["path"])
    name = _intake_entry(found)
    registration = json.loads(found[name])
    registration["payload"]["size"] += 1
    found[name] = json.dumps(registration, separators=(",", ":"), sort_keys=True).encode()
    report = _verify(
        rewrite(found, tmp_path / "t.zip", **insider(exported["services"])), _root(exported)
    )
    assert report.verdict == Verdict.NOT_VERIFIED
    assert "inclusion" in _failed(report)


def test_the_package_lists_every_payload_file_in_an_sm3_manifest_openssl_agrees_with(
    exported, tmp_path
):
    found = entries(exported["path"])
    sm3 = _lines(found[named(found, "manifest-sm3.txt")])
    sha256 = _lines(found[named(found, "manifest-sha256.txt")])
    assert set(sm3) == set(sha256) and len(sm3) >= 10
    assert "manifest-sm3.txt" in _lines(found[named(found, "tagmanifest-sha256.txt")])
    [video] = [n for n in sm3 if n.startswith("data/evidence/") and n.endswith(".mp4")][:1]
    path = tmp_path / "video.mp4"
    path.write_bytes(found[named(found, video)])
    openssl = subprocess.run(
        ["openssl", "dgst", "-sm3", "-r", str(path)], capture_output=True, text=True, check=True
    )
    assert openssl.stdout.split()[0] == sm3[video]
    report = _verify(exported["path"], _root(exported))
    assert report.check("manifests").detail.endswith("match their SHA-256 and SM3")


def test_a_package_whose_sm3_manifest_was_altered_is_not_verified(exported, tmp_path):
    found = entries(exported["path"])
    name = named(found, "manifest-sm3.txt")
    found[name] = b"0" * 64 + found[name][64:]
    forged = _verify(rewrite(found, tmp_path / "forged.zip"), _root(exported))
    assert forged.verdict == Verdict.NOT_VERIFIED and "signature" in _failed(forged)
    # An insider with the package key signs a tag manifest over the altered SM3 manifest: the
    # files' own SM3 gives it away.
    resigned = rewrite(
        found, tmp_path / "resigned.zip", manifests=False, **insider(exported["services"])
    )
    report = _verify(resigned, _root(exported))
    assert report.verdict == Verdict.NOT_VERIFIED and _failed(report) == ["manifests"]
    assert "manifest-sm3.txt says 000000" in report.check("manifests").detail


def _lines(manifest):
    return {
        line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in manifest.decode().splitlines()
    }
