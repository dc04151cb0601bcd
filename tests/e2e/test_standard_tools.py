"""The README's procedure for courts with standard tools alone, run as written against a real
package and against forgeries: a package re-signed by another key, a rewritten event, a root that
is not the one on paper."""

import base64
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import sm2, trust
from tests.support.packages import (
    SM2_FROM_SIZE,
    Case,
    backdated_into_rotated_key,
    backdated_past_sm2,
    build,
    entries,
    insider,
    named,
    rewrite,
    rotated,
    upgraded_to_sm2,
)
from tests.support.trust import Deployment

README = Path(__file__).resolve().parents[2] / "README.md"
# python3 with cryptography, then the system's tools
PATH = f"{Path(sys.executable).parent}:/usr/bin:/bin"


def _procedure() -> str:
    text = README.read_text()
    block = re.search(
        r"<!-- standard-tools -->\n```sh\n(.*?)```\n<!-- /standard-tools -->", text, re.S
    )
    assert block, "README lost its standard-tools procedure"
    return block.group(1)


def _run(package, exported, anvil, tmp_path, fingerprint=None):
    services = exported["services"]
    fingerprint = fingerprint or services.trust.latest().fingerprint
    return _run_on(package, services.trust.latest_text(), fingerprint, anvil.url, tmp_path)


def _run_on(package, root_text, fingerprint, rpc, tmp_path):
    tmp_path.mkdir(exist_ok=True)
    root = tmp_path / "root.json"
    root.write_text(root_text)
    env = {
        "PATH": PATH,
        "PACKAGE": str(package),
        "RPC": rpc,
        "ROOT": str(root),
        "FINGERPRINT": fingerprint,
    }
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _procedure()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )


def test_a_court_checks_a_package_with_sha256sum_openssl_python_and_curl(exported, anvil, tmp_path):
    done = _run(exported["path"], exported, anvil, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "files: OK" in done.stdout
    # Ed25519 over the tag manifest, then SM2 over it and over the checkpoint: the root lists SM2.
    assert done.stdout.count("Signature Verified Successfully") == 3, done.stdout
    assert "trust root, checkpoint signature, inclusion: OK" in done.stdout
    assert "anchored on chain: OK" in done.stdout


def test_the_procedure_fails_on_a_changed_file(exported, anvil, tmp_path):
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(exported["path"]) as z, zipfile.ZipFile(forged, "w") as out:
        for info in z.infolist():
            data = z.read(info)
            out.writestr(
                info.filename, data + b" " if info.filename.endswith("custody.json") else data
            )
    done = _run(forged, exported, anvil, tmp_path)
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr


def test_the_procedure_fails_on_a_rewritten_event_re_signed_by_another_key(
    exported, anvil, tmp_path
):
    found = entries(exported["path"])
    event = sorted(n for n in found if "/data/events/" in n)[0]
    found[event] = found[event].replace(b'"stall"', b'"other"')
    done = _run(
        rewrite(found, tmp_path / "forged.zip", Ed25519PrivateKey.generate()),
        exported,
        anvil,
        tmp_path,
    )
    assert done.returncode != 0
    assert "not signed by a package key of the trust root" in done.stderr, done.stdout + done.stderr


def test_the_procedure_fails_on_a_rewritten_event_even_signed_by_the_agency(
    exported, anvil, tmp_path
):
    found = entries(exported["path"])
    event = sorted(n for n in found if "/data/events/" in n)[0]
    found[event] = found[event].replace(b'"stall"', b'"other"')
    done = _run(
        rewrite(found, tmp_path / "forged.zip", **insider(exported["services"])),
        exported,
        anvil,
        tmp_path,
    )
    in_bag = event.split("/", 1)[1]
    assert done.returncode != 0 and f"{in_bag} is not in the signed tree" in done.stderr


def test_the_procedure_refuses_a_root_that_is_not_the_one_on_paper(exported, anvil, tmp_path):
    done = _run(exported["path"], exported, anvil, tmp_path, fingerprint="ab" * 32)
    assert done.returncode != 0 and "not the one on paper" in done.stderr


def test_the_procedure_takes_the_contract_from_the_root_not_from_the_package(
    exported, anvil, tmp_path
):
    found = entries(exported["path"])
    anchor = json.loads(found[named(found, "anchor.json")])
    anchor["contract"] = "0x" + "11" * 20
    found[named(found, "anchor.json")] = json.dumps(anchor).encode()
    done = _run(
        rewrite(found, tmp_path / "t.zip", **insider(exported["services"])),
        exported,
        anvil,
        tmp_path,
    )
    assert done.returncode == 0, (
        done.stdout + done.stderr
    )  # the claim is ignored: the root's contract holds it


def test_the_procedure_fails_on_an_sm2_signature_over_other_bytes(exported, anvil, tmp_path):
    found = entries(exported["path"])
    name = named(found, "signature-sm2.json")
    signature = json.loads(found[name])
    other = sm2.sign(exported["services"].trust.package_sm2_ring.first, b"another tag manifest")
    found[name] = json.dumps({**signature, "signature": base64.b64encode(other).decode()}).encode()
    done = _run(rewrite(found, tmp_path / "t.zip"), exported, anvil, tmp_path)
    assert done.returncode != 0 and "Signature Verification Failure" in done.stdout + done.stderr
    assert done.stdout.count("Signature Verified Successfully") == 1  # the Ed25519 one only


def test_the_procedure_fails_on_a_package_stripped_of_its_sm2_signature(exported, anvil, tmp_path):
    found = entries(exported["path"])
    del found[named(found, "signature-sm2.json")]
    done = _run(rewrite(found, tmp_path / "t.zip"), exported, anvil, tmp_path)
    assert done.returncode != 0 and "signature-sm2.json" in done.stderr


def test_the_procedure_refuses_a_package_dated_before_sm2_over_a_checkpoint_signed_with_it(
    tmp_path,
):
    agency = upgraded_to_sm2()
    document = json.dumps(agency.document())
    fingerprint = agency.root().fingerprint
    honest = build(agency, tmp_path / "honest.zip", Case(before=SM2_FROM_SIZE)).path
    done = _run_on(honest, document, fingerprint, "http://127.0.0.1:9", tmp_path / "honest")
    assert "trust root, checkpoint signature, inclusion: OK" in done.stdout, done.stderr
    backdated = backdated_past_sm2(agency, tmp_path / "backdated.zip").path
    done = _run_on(backdated, document, fingerprint, "http://127.0.0.1:9", tmp_path / "backdated")
    assert done.returncode != 0
    assert "claims a time before the SM2 package keys" in done.stderr
    assert "inclusion: OK" not in done.stdout


def test_the_procedure_refuses_a_rotated_out_key_dating_later_events_into_its_period(tmp_path):
    agency = Deployment()
    document = rotated(agency, Ed25519PrivateKey.generate())
    fingerprint = trust.TrustRoot.from_document(document).fingerprint
    forged = backdated_into_rotated_key(agency, tmp_path / "forged.zip").path
    done = _run_on(forged, json.dumps(document), fingerprint, "http://127.0.0.1:9", tmp_path / "f")
    assert done.returncode != 0
    assert "claims a signing time before events it holds were logged" in done.stderr, done.stderr
    assert "inclusion: OK" not in done.stdout
