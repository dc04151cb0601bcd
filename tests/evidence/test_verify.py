"""The offline verifier against trust roots, on packages built in memory: no database, no chain.

Every forged input must come out NOT VERIFIED with the failing check named; a check that was not
run says so; the anchor leg is "not checked" offline and INCOMPLETE when the root requires it.
"""

import base64
import json
import struct
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence import verify as verifier
from evidence.bagit import ArchiveLimits
from evidence.verify import Status, Verdict
from ledger import sm2, timestamp, trust
from ledger.checkpoint import CheckpointSigner
from ledger.errors import CheckIncomplete, VerificationError
from tests.support.packages import (
    EPOCH,
    ROTATED_AT,
    SM2_FROM_SIZE,
    Case,
    backdated_into_rotated_key,
    backdated_past_sm2,
    build,
    entries,
    named,
    rewrite,
    rotated,
    upgraded_to_sm2,
)
from tests.support.trust import ORIGIN, Deployment
from tests.support.tsa import TestAuthority


@pytest.fixture
def agency():
    return Deployment()


@pytest.fixture
def genuine(agency, tmp_path):
    return build(agency, tmp_path / "case.zip").path


def _verify(path, *roots, chain=None, **kw):
    return verifier.verify(str(path), trust.TrustRoots(roots), chain, **kw)


def _status(report):
    return {c.name: c.status for c in report.checks}


def _failed(report):
    return [c.name for c in report.checks if c.status == Status.FAIL]


def test_a_genuine_package_verifies_against_its_agencys_root_with_the_anchor_not_checked(
    agency, genuine
):
    report = _verify(genuine, agency.root())
    assert report.verdict == Verdict.VERIFIED and report.exit_code == 0, report.to_json()
    assert (
        _status(report)["anchor"] == Status.NOT_RUN and "not checked: offline" in report.headline()
    )
    assert _status(report)["witnesses"] == Status.NOT_RUN
    assert "no witnesses configured" in report.headline()
    assert agency.root().fingerprint in report.headline() and agency.agency in report.headline()
    assert "data/report.html" in report.coverage["signature_only"]
    assert "data/custody.json" in report.coverage["log"]


def test_the_chain_leg_passes_only_through_the_callers_chain_check_with_the_roots_pin(
    agency, genuine
):
    seen = []

    def chain(pin, claim):
        seen.append((pin.chain_id, pin.contract, claim["size"]))
        return "checked on chain 31337 at block 7, 3 confirmations"

    report = _verify(genuine, agency.root(), chain=chain)
    assert report.verdict == Verdict.VERIFIED and _status(report)["anchor"] == Status.PASS
    assert seen == [(31337, agency.contract, report.anchored["size"])]
    assert "block 7, 3 confirmations" in report.headline()


def test_a_package_forged_from_nothing_with_a_strangers_keys_is_not_verified(agency, tmp_path):
    forger = Deployment()  # same origin, its own log key, package key and tree
    forged = build(forger, tmp_path / "forged.zip", Case(outcome={"outcome": "no_penalty"})).path
    assert _verify(forged, forger.root()).passed  # consistent in itself: only trust tells it apart
    report = _verify(forged, agency.root(), chain=lambda pin, claim: "anchored")
    assert report.verdict == Verdict.NOT_VERIFIED and report.exit_code == 1
    assert {"signature", "checkpoint"} <= set(_failed(report))
    detail = report.check("checkpoint").detail
    assert forger.signer.note_key_id.hex() in detail and "does not list" in detail
    assert agency.root().fingerprint in detail
    assert (
        trust.package_key_id(forger.package_key.public_key().public_bytes_raw())
        in report.check("signature").detail
    )
    assert _status(report)["manifests"] == Status.NOT_RUN  # refused before hashing the files


def test_a_package_anchored_on_another_contract_or_chain_is_not_verified(agency, tmp_path):
    for change, words in [
        ({"contract": "0x" + "11" * 20}, "the anchor names contract 0x1111"),
        ({"chain_id": 1}, "on chain 1;"),
    ]:
        forged = build(agency, tmp_path / "a.zip", anchor=change).path
        report = _verify(forged, agency.root(), chain=lambda pin, claim: "anchored")
        assert _failed(report) == ["anchor"] and words in report.check("anchor").detail
        assert "trusted root pins contract" in report.check("anchor").detail


def test_a_genuine_package_re_signed_by_a_stranger_names_the_strangers_key_not_the_agencys(
    agency, genuine, tmp_path
):
    found = entries(genuine)
    custody = json.loads(found[named(found, "custody.json")])
    found[named(found, "custody.json")] = json.dumps(custody[:-1]).encode()  # a view removed
    stranger = Ed25519PrivateKey.generate()
    report = _verify(rewrite(found, tmp_path / "t.zip", stranger), agency.root())
    assert report.verdict == Verdict.NOT_VERIFIED
    detail = report.check("signature").detail
    assert trust.package_key_id(stranger.public_key().public_bytes_raw()) in detail
    agency_key_id = trust.package_key_id(agency.package_key.public_key().public_bytes_raw())
    assert agency_key_id not in detail
    assert "custody" in _failed(report)


def test_custody_edited_and_re_signed_by_the_agencys_own_key_is_caught_by_the_log(
    agency, genuine, tmp_path
):
    found = entries(genuine)
    custody = json.loads(found[named(found, "custody.json")])
    found[named(found, "custody.json")] = json.dumps(custody[:-1]).encode()
    report = _verify(rewrite(found, tmp_path / "t.zip", agency.package_key), agency.root())
    assert _failed(report) == ["custody"] and "leaves missing" in report.check("custody").detail


@pytest.mark.parametrize(
    ("field", "claim"),
    [
        ("captured_at", "2026-02-27T07:00:00.000000Z"),
        ("late", True),
        ("device_signed", True),
        ("officer", "officer-2"),
        ("registered_at", "2026-03-01T08:00:00.000000Z"),
        ("case_no", "CG-2026-000002"),
    ],
)
def test_an_item_record_rewritten_and_re_signed_by_the_agencys_key_is_caught_by_the_log(
    agency, genuine, tmp_path, field, claim
):
    found = entries(genuine)
    record = json.loads(found[named(found, "evidence/ev-1.json")])
    record[field] = claim
    found[named(found, "evidence/ev-1.json")] = json.dumps(record).encode()
    report = _verify(rewrite(found, tmp_path / "t.zip", agency.package_key), agency.root())
    assert report.verdict == Verdict.NOT_VERIFIED and _failed(report) == ["evidence"]
    detail = report.check("evidence").detail
    assert f"its record (data/evidence/ev-1.json) says otherwise than the log about {field}" in (
        detail
    )


def test_a_capture_time_written_with_another_offset_is_the_same_moment(agency, genuine, tmp_path):
    found = entries(genuine)
    record = json.loads(found[named(found, "evidence/ev-1.json")])
    record["captured_at"] = "2026-03-01T15:00:00+08:00"  # the logged 07:00 UTC, in Beijing time
    found[named(found, "evidence/ev-1.json")] = json.dumps(record).encode()
    report = _verify(rewrite(found, tmp_path / "t.zip", agency.package_key), agency.root())
    assert report.verdict == Verdict.VERIFIED, report.to_json()


def test_a_signature_time_outside_the_package_keys_period_fails(agency, tmp_path):
    early = build(agency, tmp_path / "early.zip", signed_at=EPOCH - timedelta(days=1)).path
    report = _verify(early, agency.root())
    assert (
        _failed(report) == ["signature"] and "allows only from" in report.check("signature").detail
    )


def test_a_checkpoint_by_an_unknown_key_fails_the_checkpoint_and_blocks_what_needs_it(
    agency, tmp_path
):
    stranger = CheckpointSigner(ORIGIN, Ed25519PrivateKey.generate())
    forged = build(agency, tmp_path / "t.zip", checkpoint_signer=stranger).path
    report = _verify(forged, agency.root())
    assert _failed(report) == ["checkpoint"]
    assert _status(report)["inclusion"] == Status.NOT_RUN
    assert "not run: no checkpoint verified" in report.check("inclusion").detail


def test_a_package_of_a_log_nobody_trusts_names_the_origin(tmp_path):
    other = Deployment(origin="other.example/log")
    report = _verify(build(other, tmp_path / "o.zip").path, Deployment().root())
    assert _failed(report) == ["root"] and "'other.example/log'" in report.check("root").detail


def test_an_unreachable_chain_makes_the_verdict_incomplete(agency, genuine):
    def down(pin, claim):
        raise CheckIncomplete("chain at http://x is unreachable")

    report = _verify(genuine, agency.root(), chain=down)
    assert report.verdict == Verdict.INCOMPLETE and report.exit_code == 3
    assert _status(report)["anchor"] == Status.INCOMPLETE


def test_a_chain_that_contradicts_the_anchor_fails_it(agency, genuine):
    def contradicts(pin, claim):
        raise VerificationError("the contract holds no root at size 9")

    assert _failed(_verify(genuine, agency.root(), chain=contradicts)) == ["anchor"]


def test_a_root_that_requires_the_chain_makes_an_offline_check_incomplete(tmp_path):
    agency = Deployment(require_chain_check=True)
    report = _verify(build(agency, tmp_path / "c.zip").path, agency.root())
    assert report.verdict == Verdict.INCOMPLETE and report.exit_code == 3


def test_the_witness_quorum_is_enforced_when_the_root_asks_for_it(tmp_path):
    w1, w2 = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    agency = Deployment(
        witnesses=[("court.example/w", w1), ("notary.example/w", w2)], witness_quorum=2
    )
    one = build(agency, tmp_path / "one.zip", cosigners=[("court.example/w", w1)]).path
    report = _verify(one, agency.root())
    detail = report.check("witnesses").detail
    assert _failed(report) == ["witnesses"] and "1 of the 2" in detail
    assert "cosigned by court.example/w at 20" in detail and "notary.example/w: missing" in detail
    both = build(
        agency, tmp_path / "both.zip", cosigners=[("court.example/w", w1), ("notary.example/w", w2)]
    ).path
    assert _verify(both, agency.root()).verdict == Verdict.VERIFIED
    assert "2 of 2 required cosignatures" in _verify(both, agency.root()).headline()


def _rotated(agency: Deployment, new_key: Ed25519PrivateKey) -> trust.TrustRoot:
    return trust.TrustRoot.from_document(rotated(agency, new_key))


def test_a_rotated_root_verifies_packages_signed_before_and_after_and_refuses_out_of_range(
    tmp_path,
):
    agency = Deployment()
    new_key = Ed25519PrivateKey.generate()
    root, rotated_at = _rotated(agency, new_key), ROTATED_AT
    case = Case(logged_from=EPOCH + timedelta(days=2))
    day_before, day_after = rotated_at - timedelta(days=1), rotated_at + timedelta(days=1)
    before = build(agency, tmp_path / "b.zip", case, signed_at=day_before).path
    after = build(agency, tmp_path / "a.zip", case, signed_at=day_after, sign_with=new_key).path
    late = build(agency, tmp_path / "l.zip", case, signed_at=day_after).path
    assert _verify(before, root).passed and _verify(after, root).passed
    assert _failed(_verify(late, root)) == ["signature"]


def test_a_rotated_out_key_cannot_date_a_package_of_later_events_into_its_period(tmp_path):
    agency = Deployment()
    root = _rotated(agency, Ed25519PrivateKey.generate())
    forged = backdated_into_rotated_key(agency, tmp_path / "f.zip").path
    report = _verify(forged, root)
    assert report.verdict == Verdict.NOT_VERIFIED and _failed(report) == ["signing-time"]
    detail = report.check("signing-time").detail
    assert "leaf 6 was logged at 2026-02-05T00:03:00.000000Z, after the signing time" in detail
    assert "2026-01-30T00:00:00.000000Z: the signing time is false" in detail


def test_a_signing_time_minutes_behind_the_last_event_is_a_clock_difference_not_a_forgery(
    agency, tmp_path
):
    case = Case()
    last_logged = case.logged_from + timedelta(minutes=len(case.steps()) - 1)
    within = build(agency, tmp_path / "w.zip", case, signed_at=last_logged - timedelta(minutes=4))
    beyond = build(agency, tmp_path / "b.zip", case, signed_at=last_logged - timedelta(minutes=6))
    assert _verify(within.path, agency.root()).verdict == Verdict.VERIFIED
    assert _failed(_verify(beyond.path, agency.root())) == ["signing-time"]


def test_the_signing_time_check_names_the_last_logged_event(agency, genuine):
    detail = _verify(genuine, agency.root()).check("signing-time").detail
    assert "not before the last of the 4 logged events it holds (leaf 6, 2026-03-01T08:03" in detail


# --- hostile input
# ----------------------------------------------------------------------------------


def test_200000_deep_json_in_each_json_file_fails_cleanly(agency, genuine, tmp_path):
    found = entries(genuine)
    deep = b"[" * 200_000 + b"]" * 200_000
    for part in (
        "signature.json",
        "proofs.json",
        "anchor.json",
        "custody.json",
        "evidence/ev-1.json",
        "events/",
    ):
        changed = dict(found)
        changed[named(found, part)] = deep
        report = _verify(rewrite(changed, tmp_path / "deep.zip"), agency.root())
        assert report.verdict == Verdict.NOT_VERIFIED, part


def test_deep_json_does_not_crash_even_with_the_recursion_limit_raised(agency, genuine, tmp_path):
    found = entries(genuine)
    found[named(found, "signature.json")] = b"[" * 200_000 + b"]" * 200_000
    path = rewrite(found, tmp_path / "deep.zip")
    root_file = tmp_path / "root.json"
    root_file.write_text(json.dumps(agency.document()))
    probe = (
        "import sys; sys.setrecursionlimit(100_000)\n"
        "from evidence import verify\nfrom ledger import trust\n"
        f"root = trust.TrustRoot.parse(open({str(root_file)!r}).read())\n"
        f"print(verify.verify({str(path)!r}, trust.TrustRoots([root])).verdict.value)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "NOT VERIFIED", done.stderr[-500:]


def _zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members:
            z.writestr(name, data)
    return path


def test_a_zip_bomb_of_many_small_entries_is_refused_before_inflating(agency, tmp_path):
    bomb = _zip(tmp_path / "bomb.zip", [(f"bag/data/{i}", bytes(4 << 20)) for i in range(256)])
    report = _verify(bomb, agency.root())
    assert _failed(report) == ["archive"] and "zip bomb" in report.check("archive").detail
    small = _zip(tmp_path / "small.zip", [(f"bag/data/{i}", bytes(60 << 10)) for i in range(2000)])
    report = _verify(small, agency.root())
    assert _failed(report) == ["archive"] and "expands from" in report.check("archive").detail


def test_an_archive_with_too_many_entries_is_refused_before_zipfile_reads_them(agency, tmp_path):
    many = _zip(tmp_path / "many.zip", [(f"bag/{i}", b"") for i in range(300)], zipfile.ZIP_STORED)
    report = _verify(many, agency.root(), limits=ArchiveLimits(max_entries=200))
    assert (
        _failed(report) == ["archive"] and "more than 200 entries" in report.check("archive").detail
    )


def test_an_end_record_that_understates_the_entry_count_does_not_hide_them(agency, tmp_path):
    many = _zip(tmp_path / "many.zip", [(f"bag/{i}", b"") for i in range(300)], zipfile.ZIP_STORED)
    data = bytearray(many.read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, eocd + 8, 1, 1)  # "one entry" on this disk and in all
    many.write_bytes(bytes(data))
    report = _verify(many, agency.root(), limits=ArchiveLimits(max_entries=200))
    assert (
        _failed(report) == ["archive"] and "more than 200 entries" in report.check("archive").detail
    )


def test_nothing_is_written_while_verifying_a_hostile_package(agency, tmp_path):
    bomb = _zip(tmp_path / "bomb.zip", [("bag/../../etc/x", b"x")])
    _verify(bomb, agency.root())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.zip"]


def test_the_report_round_trips_through_json(agency, genuine):
    report = _verify(genuine, agency.root())
    again = verifier.PackageReport.from_json(json.loads(json.dumps(report.to_json())))
    assert again.to_json() == report.to_json()


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize(
    "members, words",
    [
        ([("bag/../../etc/evil", b"x")], "unsafe path"),
        ([("/etc/evil", b"x")], "unsafe path"),
        ([("bag/a", b"1"), ("bag/a", b"2")], "twice"),
        ([("bag/bomb", bytes(64 << 20))], "zip bomb"),
    ],
)
def test_hostile_archives_are_refused_before_anything_is_trusted(agency, tmp_path, members, words):
    report = _verify(_zip(tmp_path / "hostile.zip", members), agency.root())
    assert _failed(report) == ["archive"] and words in report.check("archive").detail
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.zip"]  # nothing was written


def test_a_symbolic_link_in_the_archive_is_refused(agency, tmp_path):
    link = zipfile.ZipInfo("bag/data/link")
    link.external_attr = 0o120777 << 16
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as z:
        z.writestr(link, b"/etc/passwd")
    report = _verify(tmp_path / "link.zip", agency.root())
    assert "symbolic link" in report.check("archive").detail


def test_a_truncated_archive_is_refused(agency, genuine, tmp_path):
    data = genuine.read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    report = _verify(tmp_path / "cut.zip", agency.root())
    assert _failed(report) == ["archive"] and "truncated" in report.check("archive").detail


def test_a_file_beyond_the_manifests_is_named_as_covered_by_nothing(agency, genuine, tmp_path):
    found = entries(genuine)
    base = next(iter(found)).split("/")[0]
    found[f"{base}/data/extra.txt"] = b"slipped in"
    report = _verify(rewrite(found, tmp_path / "t.zip"), agency.root())
    assert "manifests" in _failed(report)
    assert (
        "data/extra.txt" in report.check("manifests").detail
        and "nothing covers" in report.check("manifests").detail
    )


def test_a_package_signed_by_a_stranger_does_not_say_its_events_are_included(agency, tmp_path):
    forged = build(Deployment(), tmp_path / "forged.zip").path
    report = _verify(forged, agency.root())
    assert report.verdict == Verdict.NOT_VERIFIED
    assert _status(report)["inclusion"] == Status.NOT_RUN
    assert (
        report.leg("included") == Status.NOT_RUN and "包含 included: not run" in report.headline()
    )


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return TestAuthority(tmp_path_factory.mktemp("tsa"))


def _stamper(authority):
    def stamp(data):
        query, nonce = timestamp.request(data)
        return timestamp.token_of_response(authority.reply(query), nonce)

    return stamp


def test_a_package_stamped_by_the_roots_authority_names_who_stamped_it_and_when(
    tmp_path, authority
):
    agency = Deployment(tsa=authority.chain_pem)
    package = build(agency, tmp_path / "stamped.zip", stamp=_stamper(authority)).path
    report = _verify(package, agency.root())
    assert _status(report)["timestamp"] == Status.PASS
    assert "stamped by CN=Test TSA at 20" in report.check("timestamp").detail
    with zipfile.ZipFile(package) as bag:
        names = bag.namelist()
    assert any(n.endswith("data/checkpoint-timestamp.tsr") for n in names)


def test_a_package_stamped_by_another_authority_or_over_another_note_is_not_verified(
    tmp_path, authority
):
    agency = Deployment(tsa=authority.chain_pem)
    stranger = TestAuthority(tmp_path / "stranger", name="Stranger TSA")
    other = build(agency, tmp_path / "other.zip", stamp=_stamper(stranger)).path
    report = _verify(other, agency.root())
    assert _failed(report) == ["timestamp"]
    assert "does not name or issue" in report.check("timestamp").detail

    def stamp_something_else(data):
        return _stamper(authority)(data + b"\n")

    changed = build(agency, tmp_path / "changed.zip", stamp=stamp_something_else).path
    assert "stamps other bytes" in _verify(changed, agency.root()).check("timestamp").detail


def test_without_a_stamp_a_root_with_an_authority_leaves_the_verdict_incomplete(
    tmp_path, authority
):
    agency = Deployment(tsa=authority.chain_pem)
    report = _verify(build(agency, tmp_path / "bare.zip").path, agency.root())
    assert _status(report)["timestamp"] == Status.INCOMPLETE
    assert report.verdict == Verdict.INCOMPLETE
    plain = Deployment(checkpoint_key=agency.checkpoint_key, package_key=agency.package_key)
    report = _verify(build(plain, tmp_path / "plain.zip").path, plain.root())
    assert _status(report)["timestamp"] == Status.NOT_RUN


def _openssl_on_package(authority, package, tmp_path):
    with zipfile.ZipFile(package) as bag:
        [token] = [n for n in bag.namelist() if n.endswith("data/checkpoint-timestamp.tsr")]
        stamped = token.replace("checkpoint-timestamp.tsr", "checkpoint-stamped.txt")
        (tmp_path / "token.tsr").write_bytes(bag.read(token))
        (tmp_path / "stamped.txt").write_bytes(bag.read(stamped))
    return authority.openssl_verify(tmp_path / "stamped.txt", tmp_path / "token.tsr").returncode


def test_openssl_ts_verify_agrees_with_the_verifier_on_a_packages_good_and_bad_token(
    tmp_path, authority
):
    agency = Deployment(tsa=authority.chain_pem)
    good = build(agency, tmp_path / "good.zip", stamp=_stamper(authority)).path
    assert _status(_verify(good, agency.root()))["timestamp"] == Status.PASS
    assert _openssl_on_package(authority, good, tmp_path) == 0

    def stamp_other_bytes(data):
        return _stamper(authority)(data.replace(b"\n", b"\r\n", 1))

    bad = build(agency, tmp_path / "bad.zip", stamp=stamp_other_bytes).path
    assert _status(_verify(bad, agency.root()))["timestamp"] == Status.FAIL
    assert _openssl_on_package(authority, bad, tmp_path) != 0


# --- SM2 package signatures (DESIGN.md: 国密 digests and signatures) ---------------------------


@pytest.fixture
def sm2_agency():
    return Deployment.with_sm2()


@pytest.fixture
def sm2_genuine(sm2_agency, tmp_path):
    return build(sm2_agency, tmp_path / "sm2.zip").path


def test_a_package_of_a_root_with_sm2_keys_verifies_both_signatures(sm2_agency, sm2_genuine):
    report = _verify(sm2_genuine, sm2_agency.root())
    assert report.verdict == Verdict.VERIFIED, report.to_json()
    package_sm2 = sm2_agency.root().sm2_package_key(EPOCH)
    assert f"SM2 with SM3 by package key {package_sm2.key_id}" in report.check("signature").detail
    assert "and SM2 key" in report.check("checkpoint").detail


def test_a_package_stripped_of_its_sm2_signature_is_not_verified_by_a_root_that_requires_it(
    sm2_agency, sm2_genuine, tmp_path
):
    found = entries(sm2_genuine)
    del found[named(found, "signature-sm2.json")]
    report = _verify(rewrite(found, tmp_path / "t.zip"), sm2_agency.root())
    assert report.verdict == Verdict.NOT_VERIFIED and _failed(report) == ["signature"]
    assert "requires an SM2 signature by package key" in report.check("signature").detail
    assert "has no signature-sm2.json" in report.check("signature").detail


def test_an_altered_sm2_signature_fails_the_signature_check_naming_sm2(
    sm2_agency, sm2_genuine, tmp_path
):
    found = entries(sm2_genuine)
    name = named(found, "signature-sm2.json")
    signature = json.loads(found[name])
    forged = sm2.sign(sm2_agency.package_sm2, b"another tag manifest")
    found[name] = json.dumps({**signature, "signature": base64.b64encode(forged).decode()}).encode()
    report = _verify(rewrite(found, tmp_path / "t.zip"), sm2_agency.root())
    assert report.verdict == Verdict.NOT_VERIFIED and _failed(report) == ["signature"]
    assert "package's sm2 signature by key" in report.check("signature").detail


def test_an_insider_with_the_ed25519_key_but_a_strangers_sm2_key_is_not_verified(
    sm2_agency, sm2_genuine, tmp_path
):
    found = entries(sm2_genuine)
    stranger = sm2.generate()
    resigned = rewrite(found, tmp_path / "t.zip", sm2_agency.package_key, sm2_with=stranger)
    report = _verify(resigned, sm2_agency.root())
    assert report.verdict == Verdict.NOT_VERIFIED and _failed(report) == ["signature"]
    stranger_id = trust.package_key_id(sm2.public_of(stranger))
    assert f"signed by key {stranger_id} (sm2)" in report.check("signature").detail


def test_a_root_without_sm2_keys_verifies_on_ed25519_and_says_the_sm2_file_was_not_checked(
    sm2_agency, sm2_genuine
):
    older = Deployment(
        checkpoint_key=sm2_agency.checkpoint_key, package_key=sm2_agency.package_key
    ).root()
    report = _verify(sm2_genuine, older)
    assert report.verdict == Verdict.VERIFIED, report.to_json()
    assert "signature-sm2.json not checked" in report.check("signature").detail


def test_a_package_dated_before_sm2_over_a_checkpoint_signed_with_sm2_is_not_verified(tmp_path):
    agency = upgraded_to_sm2()
    forged = backdated_past_sm2(agency, tmp_path / "f.zip")
    report = _verify(forged.path, agency.root())
    assert forged.size > SM2_FROM_SIZE
    assert report.verdict == Verdict.NOT_VERIFIED and _failed(report) == ["signature"]
    detail = report.check("signature").detail
    first_sm2 = trust.package_key_id(sm2.public_of(agency.package_sm2))
    assert f"requires an SM2 signature by package key {first_sm2}" in detail
    assert f"its checkpoint (size {forged.size}) is one the log signed with SM2" in detail


def test_a_backdated_package_with_the_sm2_signature_too_is_refused_for_its_date(tmp_path):
    agency = upgraded_to_sm2()
    backdated = EPOCH + timedelta(days=10)
    forged = build(agency, tmp_path / "f.zip", Case(before=SM2_FROM_SIZE), signed_at=backdated)
    report = _verify(forged.path, agency.root())
    assert report.verdict == Verdict.NOT_VERIFIED and _failed(report) == ["signature"]
    assert "which the trusted root allows only" in report.check("signature").detail


def test_a_package_sealed_before_sm2_over_a_checkpoint_from_before_it_still_verifies(tmp_path):
    agency = upgraded_to_sm2()
    before = replace(agency, package_sm2=None, checkpoint_sm2=None)
    old = build(
        before,
        tmp_path / "old.zip",
        Case(before=0, logged_from=EPOCH + timedelta(days=5)),
        signed_at=EPOCH + timedelta(days=10),
        trust_root=agency.document(),
    )
    assert old.size < SM2_FROM_SIZE
    report = _verify(old.path, agency.root())
    assert report.verdict == Verdict.VERIFIED, report.to_json()
    assert "the trusted root requires none" in report.check("signature").detail


def test_a_package_without_sm2_says_so_when_its_root_requires_none(agency, genuine):
    report = _verify(genuine, agency.root())
    assert (
        "no SM2 signature, and the trusted root requires none" in report.check("signature").detail
    )
