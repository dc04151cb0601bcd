"""The README's procedure for courts with standard tools alone, run as written against a real package."""

import re
import subprocess
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _procedure() -> str:
    text = README.read_text()
    block = re.search(r"<!-- standard-tools -->\n```sh\n(.*?)```\n<!-- /standard-tools -->", text, re.S)
    assert block, "README lost its standard-tools procedure"
    return block.group(1)


def test_a_court_checks_a_package_with_sha256sum_openssl_and_curl(exported, anvil, tmp_path):
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", _procedure()], cwd=tmp_path, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "PACKAGE": str(exported["path"]), "RPC": anvil.url})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "files: OK" in done.stdout and "Signature Verified Successfully" in done.stdout
    assert "anchored on chain: OK" in done.stdout


def test_the_procedure_fails_on_a_changed_file(exported, anvil, tmp_path):
    import zipfile
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(exported["path"]) as z, zipfile.ZipFile(forged, "w") as out:
        for info in z.infolist():
            data = z.read(info)
            out.writestr(info.filename, data + b" " if info.filename.endswith("custody.json") else data)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", _procedure()], cwd=tmp_path, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "PACKAGE": str(forged), "RPC": anvil.url})
    assert done.returncode != 0 and "FAILED" in done.stdout + done.stderr
