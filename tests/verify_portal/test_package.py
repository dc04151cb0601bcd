"""Evidence packages end to end: export a real anchored case, verify it offline, and catch every tampering."""

import base64
import hashlib
import io
import json
import zipfile

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from anchor.receipt import check_on_chain
from evidence import verify as verifier
from evidence.package import key_id
from ledger.checkpoint import CheckpointSigner
from ledger.users import Role
from verify_portal.cli import main


def _verify(path, key=None, rpc=None):
    return verifier.verify(str(path), key, (lambda a: check_on_chain(rpc, a)) if rpc else None)


def _failed(report):
    return [c.name for c in report.checks if c.passed is False]


def test_an_exported_package_verifies_check_by_check(exported):
    report = _verify(exported["path"], exported["services"].package_key.public_key(), exported["chain"])
    assert report.passed and _failed(report) == []
    assert [c.name for c in report.checks] == [n for n, _ in verifier.CHECKS]
    assert "上链后未被篡改" in report.statement() and "does not prove that the content was authentic" in \
        report.statement()
    summary = exported["summary"]
    assert summary["evidence"] == 3 and summary["events"] >= 5


def test_without_rpc_the_chain_check_is_not_run_and_not_claimed(exported):
    report = _verify(exported["path"])
    anchor = next(c for c in report.checks if c.name == "anchor")
    assert anchor.passed is None and "not checked on chain" in report.statement()


def test_the_export_is_a_custody_event_in_the_log(exported):
    client, tokens = exported["client"], exported["tokens"]
    listed = client.get(f"/api/v1/cases/{exported['case_no']}/evidence",
                        headers={"Authorization": f"Bearer {tokens[Role.SUPERVISOR]}"}).json["evidence"]
    trail = client.get(f"/api/v1/evidence/{listed[0]['evidence_id']}/custody",
                       headers={"Authorization": f"Bearer {tokens[Role.SUPERVISOR]}"}).json["custody"]
    assert any(e.get("action") == "export" and e["actor"] == "supervisor-1" for e in trail)


# --- tampering -------------------------------------------------------------------------------


def _entries(path):
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _rewrite(entries, out, resign_with=None):
    """Write `entries` as a zip; with a key, recompute both manifests and the signature first (an insider
    who holds a signing key, so that only the deeper checks can catch the change)."""
    if resign_with is not None:
        base = next(iter(entries)).split("/")[0]
        payload = {n: d for n, d in entries.items() if n.startswith(f"{base}/data/")}
        entries[f"{base}/manifest-sha256.txt"] = "".join(
            f"{hashlib.sha256(d).hexdigest()}  {n[len(base) + 1:]}\n" for n, d in sorted(payload.items())).encode()
        octets = sum(len(d) for d in payload.values())
        info = entries[f"{base}/bag-info.txt"].decode().splitlines()
        info = [line if not line.startswith("Payload-Oxum") else f"Payload-Oxum: {octets}.{len(payload)}"
                for line in info]
        entries[f"{base}/bag-info.txt"] = ("\n".join(info) + "\n").encode()
        tags = {n: d for n, d in entries.items() if n.count("/") == 1 and not n.endswith(("tagmanifest-sha256.txt",
                                                                                         "signature.json"))}
        tagmanifest = "".join(f"{hashlib.sha256(d).hexdigest()}  {n[len(base) + 1:]}\n"
                              for n, d in sorted(tags.items())).encode()
        entries[f"{base}/tagmanifest-sha256.txt"] = tagmanifest
        public = resign_with.public_key()
        entries[f"{base}/signature.json"] = json.dumps({
            "algorithm": "ed25519", "signed_file": "tagmanifest-sha256.txt", "key_id": key_id(public),
            "public_key": public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex(),
            "signature": base64.b64encode(resign_with.sign(tagmanifest)).decode()}).encode()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out


def _named(entries, part):
    return next(n for n in entries if part in n)


def test_one_changed_byte_of_a_video_fails_the_manifests(exported, tmp_path):
    entries = _entries(exported["path"])
    video = _named(entries, ".mp4")
    data = bytearray(entries[video])
    data[len(data) // 2] ^= 1
    entries[video] = bytes(data)
    report = _verify(_rewrite(entries, tmp_path / "t.zip"))
    assert "manifests" in _failed(report) and not report.passed and "NOT VERIFIED" in report.statement()


def test_a_changed_video_with_recomputed_manifests_fails_the_signature(exported, tmp_path):
    entries = _entries(exported["path"])
    video = _named(entries, ".mp4")
    entries[video] = entries[video][:-1] + bytes([entries[video][-1] ^ 1])
    forged = _rewrite(entries, tmp_path / "t.zip", resign_with=Ed25519PrivateKey.generate())
    report = _verify(forged, exported["services"].package_key.public_key())
    assert _failed(report) == ["signature", "evidence"]


def test_a_dropped_event_fails_the_case_chain(exported, tmp_path):
    entries = _entries(exported["path"])
    event = sorted(n for n in entries if "/data/events/" in n)[1]
    del entries[event]
    report = _verify(_rewrite(entries, tmp_path / "t.zip", exported["services"].package_key))
    assert _failed(report) == ["case-chain"]


def test_reordered_events_fail_the_inclusion_proofs(exported, tmp_path):
    entries = _entries(exported["path"])
    first, second = sorted(n for n in entries if "/data/events/" in n)[:2]
    entries[first], entries[second] = entries[second], entries[first]
    report = _verify(_rewrite(entries, tmp_path / "t.zip", exported["services"].package_key))
    assert _failed(report)[0] == "inclusion"


def test_an_altered_proof_fails_the_inclusion_proofs(exported, tmp_path):
    entries = _entries(exported["path"])
    name = _named(entries, "proofs.json")
    proofs = json.loads(entries[name])
    index = next(iter(proofs["proofs"]))
    proofs["proofs"][index][0] = "00" * 32
    entries[name] = json.dumps(proofs).encode()
    report = _verify(_rewrite(entries, tmp_path / "t.zip", exported["services"].package_key))
    assert _failed(report)[0] == "inclusion"


def test_a_checkpoint_of_another_log_fails_the_checkpoint(exported, tmp_path):
    entries = _entries(exported["path"])
    name = _named(entries, "checkpoint.txt")
    other = CheckpointSigner("other.example/log", Ed25519PrivateKey.generate())
    proofs = json.loads(entries[_named(entries, "proofs.json")])
    entries[name] = other.sign(proofs["size"], bytes.fromhex(proofs["root"])).encode()
    report = _verify(_rewrite(entries, tmp_path / "t.zip", exported["services"].package_key))
    assert _failed(report)[0] == "checkpoint" and not report.passed


def test_a_package_re_signed_with_another_key_fails_against_the_expected_key(exported, tmp_path):
    forged = _rewrite(_entries(exported["path"]), tmp_path / "t.zip", resign_with=Ed25519PrivateKey.generate())
    report = _verify(forged, exported["services"].package_key.public_key())
    assert _failed(report) == ["signature"]


def test_an_anchor_pointed_at_another_block_fails_on_chain(exported, tmp_path):
    entries = _entries(exported["path"])
    name = _named(entries, "anchor.json")
    anchor = json.loads(entries[name])
    anchor["block_number"] -= 1
    entries[name] = json.dumps(anchor).encode()
    report = _verify(_rewrite(entries, tmp_path / "t.zip", exported["services"].package_key),
                     rpc=exported["chain"])
    assert _failed(report) == ["anchor"]


# --- hostile archives -------------------------------------------------------------------------


def _zip_with(tmp_path, members, name="hostile.zip"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for member in members:
            if isinstance(member, zipfile.ZipInfo):
                z.writestr(member, b"x")
            else:
                z.writestr(*member)
    return path


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("members, words", [
    ([("bag/../../etc/evil", b"x")], "unsafe path"),
    ([("/etc/evil", b"x")], "unsafe path"),
    ([("bag/a", b"1"), ("bag/a", b"2")], "twice"),
    ([("bag/bomb", bytes(64 << 20))], "zip bomb"),
])
def test_hostile_archives_are_refused_before_anything_is_trusted(tmp_path, members, words):
    report = verifier.verify(str(_zip_with(tmp_path, members)))
    assert _failed(report)[0] == "archive" and words in report.checks[0].detail and not report.passed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.zip"]  # nothing was written


def test_a_symbolic_link_in_the_archive_is_refused(tmp_path):
    link = zipfile.ZipInfo("bag/data/link")
    link.external_attr = (0o120777 << 16)
    report = verifier.verify(str(_zip_with(tmp_path, [link])))
    assert "symbolic link" in report.checks[0].detail


def test_a_truncated_archive_is_refused(exported, tmp_path):
    data = exported["path"].read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    report = verifier.verify(str(tmp_path / "cut.zip"))
    assert _failed(report)[0] == "archive" and "truncated" in report.checks[0].detail


def test_a_file_beyond_the_manifest_fails_the_manifests(exported, tmp_path):
    entries = _entries(exported["path"])
    base = next(iter(entries)).split("/")[0]
    entries[f"{base}/data/extra.txt"] = b"slipped in"
    report = _verify(_rewrite(entries, tmp_path / "t.zip"))
    assert _failed(report) == ["bag", "manifests"] and "beyond the manifests" in report.checks[2].detail


# --- the command line --------------------------------------------------------------------------


def test_the_cli_verifies_writes_json_and_html_and_exits_by_the_result(exported, tmp_path, anvil):
    key = tmp_path / "package-key.pem"
    key.write_bytes(exported["services"].package_key.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    result = CliRunner().invoke(main, ["verify", str(exported["path"]), "--rpc", anvil.url, "--expect-key", str(key),
                                       "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"),
                                       "--pdf", str(tmp_path / "r.pdf")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r.json").read_text())["passed"] is True
    assert "核验" in (tmp_path / "r.html").read_text()
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
    bad = io.BytesIO(exported["path"].read_bytes()[:1000])
    (tmp_path / "bad.zip").write_bytes(bad.getvalue())
    assert CliRunner().invoke(main, ["verify", str(tmp_path / "bad.zip")]).exit_code == 2


def test_a_court_exports_through_the_api_once_an_anchor_covers_the_case(exported, tmp_path):
    client, tokens = exported["client"], exported["tokens"]
    court = {"Authorization": f"Bearer {tokens[Role.COURT]}"}
    waiting = client.post(f"/api/v1/cases/{exported['case_no']}/exports", headers=court)
    assert waiting.status_code == 409 and "not anchored yet" in waiting.json["detail"]  # the first export's events
    exported["worker"].cycle()
    r = client.post(f"/api/v1/cases/{exported['case_no']}/exports", json={"reason": "litigation"},
                    headers={"Authorization": f"Bearer {tokens[Role.COURT]}"})
    assert r.status_code == 200 and r.mimetype == "application/zip"
    (tmp_path / "court.zip").write_bytes(r.data)
    assert _verify(tmp_path / "court.zip").passed
    denied = client.post(f"/api/v1/cases/{exported['case_no']}/exports",
                         headers={"Authorization": f"Bearer {tokens[Role.OFFICER]}"})
    assert denied.status_code == 403


def test_the_package_holds_its_report_as_html_and_as_a_pdf_with_the_chinese_embedded(exported):
    entries = _entries(exported["path"])
    pdf = entries[_named(entries, "report.pdf")]
    assert pdf.startswith(b"%PDF-") and b"WenQuanYi" in pdf  # the font travels with the report
    html_report = entries[_named(entries, "report.html")].decode()
    assert "上链后未被篡改" in html_report and exported["case_no"] in html_report


def test_the_cli_exports_with_a_progress_bar_and_the_package_key_pins_the_signature(exported, tmp_path):
    settings = exported["services"].settings
    env = {"LIANZHENG_DATA_DIR": str(settings.data_dir), "LIANZHENG_RPC_URL": settings.rpc_url or "",
           "LIANZHENG_CHAIN_ID": "31337", "LIANZHENG_CONTRACT_ADDRESS": settings.contract_address or ""}
    exported["worker"].cycle()  # anchor whatever earlier exports appended
    out = tmp_path / "cli.zip"
    result = CliRunner().invoke(main, ["export", exported["case_no"], "-o", str(out), "--as", "supervisor-1",
                                       "--wait", "0"], env=env)
    assert result.exit_code == 0, result.output
    assert "packaging" in result.output and json.loads(result.output.strip().splitlines()[-1])["evidence"] == 3
    assert not (tmp_path / "cli.zip.partial").exists()
    key = tmp_path / "key.pem"
    key.write_text(CliRunner().invoke(main, ["package-key"], env=env).output)
    checked = CliRunner().invoke(main, ["verify", str(out), "--expect-key", str(key)], env=env)
    assert checked.exit_code == 0, checked.output
    assert "VERIFIED" in checked.output
    waiting = CliRunner().invoke(main, ["export", exported["case_no"], "-o", str(tmp_path / "again.zip"),
                                        "--as", "supervisor-1", "--wait", "0"], env=env)
    assert waiting.exit_code == 1 and "not anchored yet" in waiting.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.zip", "key.pem"]  # no half-written package
