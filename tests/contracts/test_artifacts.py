"""The committed ABI and bytecode are what the pinned solc makes of the committed source (DESIGN.md:
Chain)."""

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check(contracts: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["node", str(contracts / "compile.mjs"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_committed_artifacts_match_a_fresh_compile():
    result = _check(ROOT / "contracts")
    assert result.returncode == 0, result.stderr
    artifact = json.loads((ROOT / "contracts" / "build" / "EvidenceAnchor.json").read_text())
    assert artifact["compiler"] == "solc 0.8.37"


def test_a_source_change_without_recompiling_is_caught_as_drift(tmp_path):
    copy = tmp_path / "contracts"
    shutil.copytree(ROOT / "contracts", copy)
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    source = copy / "EvidenceAnchor.sol"
    source.write_text(source.read_text().replace("if (size == 0) revert EmptyLog();", ""))
    result = _check(copy)
    assert result.returncode == 1
    assert "artifacts differ from the source: EvidenceAnchor" in result.stderr
