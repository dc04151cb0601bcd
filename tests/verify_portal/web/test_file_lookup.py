"""The court page's single-file check: hashed in the browser as a stream, only the hash looked
up."""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from ledger.users import Role

ROOT = Path(__file__).resolve().parents[3]


def test_a_registered_file_is_found_with_case_time_and_anchor_but_no_officer(exported):
    client = exported["client"]
    entries = client.get(
        f"/api/v1/cases/{exported['case_no']}/evidence",
        headers={"Authorization": f"Bearer {exported['tokens'][Role.OFFICER]}"},
    )
    sha256 = entries.json["evidence"][0]["sha256"]
    found = client.get(f"/api/v1/evidence/lookup?sha256={sha256}").json["registrations"]
    assert [r["case_no"] for r in found] == [exported["case_no"]]
    assert found[0]["anchor"]["block_number"] > 0 and found[0]["registered_at"]
    assert "officer" not in found[0]  # anyone may ask: the officer is not a public fact


def test_an_unknown_or_malformed_hash(client):
    assert client.get(f"/api/v1/evidence/lookup?sha256={'ab' * 32}").json["registrations"] == []
    assert client.get("/api/v1/evidence/lookup?sha256=../../etc").status_code == 400


def test_the_browser_module_and_its_vendored_sha256_are_served(client):
    page = client.get("/court").get_data(as_text=True)
    assert 'src="/static/file-lookup.js"' in page and 'id="single-file"' in page
    sha2 = client.get("/static/vendor/noble-hashes/sha2.js")
    assert sha2.status_code == 200 and sha2.mimetype == "text/javascript"
    assert (
        client.get("/static/vendor/noble-hashes/index.js").status_code == 404
    )  # only what the page imports


def test_the_browser_hash_of_a_stream_matches_sha256(tmp_path):
    # The page's module runs under Node with the same relative layout the portal serves.
    static = tmp_path / "static"
    (static / "vendor").mkdir(parents=True)
    shutil.copy(ROOT / "verify_portal" / "web" / "static" / "file-lookup.js", static)
    (static / "vendor" / "noble-hashes").symlink_to(ROOT / "node_modules" / "@noble" / "hashes")
    (tmp_path / "package.json").write_text('{"type": "module"}')
    data = os.urandom(5 * 1024 * 1024 + 123)
    (tmp_path / "file.bin").write_bytes(data)
    program = (
        f"import {{ hashStream }} from {json.dumps((static / 'file-lookup.js').as_uri())};"
        "import { openAsBlob } from 'node:fs';"
        f"const blob = await openAsBlob({json.dumps(str(tmp_path / 'file.bin'))});"
        "console.log(await hashStream(blob.stream()));"
    )
    digest = subprocess.run(
        ["node", "--input-type=module", "-e", program], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert digest == hashlib.sha256(data).hexdigest()
