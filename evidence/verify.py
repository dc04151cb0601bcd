"""The offline verifier of evidence packages: every check by name, pass or fail, nothing else claimed.

It reads only the package (and, when the caller passes one, asks the chain
through `chain_check`); it imports nothing that needs a database or a running
service, so it can be shipped to a court alone. Every check runs on its
own, so a court sees all that is wrong; one that lacks what an earlier failed
check should have established fails too, never passes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from evidence.bagit import BAGIT_TXT, Bag, HostilePackage, open_bag
from evidence.package import EXTENSIONS, FORMAT
from ledger import lifecycle, merkle
from ledger.checkpoint import verify_note
from ledger.errors import LianzhengError, VerificationError
from ledger.events import Event

ChainCheck = Callable[[dict[str, Any]], str]  # anchor.json -> what the chain confirmed; raises on mismatch
ROOT_FILES = {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", "signature.json"}

CHECKS = [
    ("archive", "安全的压缩包 safe archive"),
    ("bag", "BagIt 结构 bag structure"),
    ("manifests", "文件与清单一致 files match the manifests"),
    ("signature", "证据包签名 package signature"),
    ("checkpoint", "检查点签名 checkpoint signature"),
    ("inclusion", "事件包含证明 inclusion proofs"),
    ("case-chain", "案件事件链与程序 case event chain and steps"),
    ("evidence", "证据文件与登记一致 evidence files match their records"),
    ("derived", "派生证据与原件 derived items and their originals"),
    ("anchor", "链上锚定 anchored on chain"),
]


@dataclass
class Check:
    name: str
    label: str
    passed: bool | None = None  # None: not run (only the chain check, without --rpc)
    detail: str = ""


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    case_no: str | None = None
    anchored: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed is not False for c in self.checks) and any(c.passed for c in self.checks)

    def statement(self) -> str:
        """Exactly what is proven, and what is not."""
        if not self.passed:
            return ("未通过核验：不能认定包内内容与记录时一致。 NOT VERIFIED: nothing in this package may be taken "
                    "as unchanged since it was recorded.")
        a = self.anchored or {}
        onchain = next(c for c in self.checks if c.name == "anchor")
        where = (f"anchored on chain {a.get('chain_id')} in block {a.get('block_number')} ({onchain.detail})"
                 if onchain.passed else "the anchor was not checked on chain (run with --rpc)")
        return (f"已核验：包内事件与证据文件自记录时起未被篡改（上链后未被篡改）。 VERIFIED: the events and files "
                f"of case {self.case_no} are unchanged since they were recorded; the log's tree head of size "
                f"{a.get('size')} is {where}. This does not prove that the content was authentic before it "
                f"was recorded. 本核验不证明记录之前内容的真实性。")

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "case_no": self.case_no, "statement": self.statement(),
                "checks": [{"check": c.name, "label": c.label, "passed": c.passed, "detail": c.detail}
                           for c in self.checks]}


class _Run:
    def __init__(self, report: Report) -> None:
        self.report = report

    def check(self, name: str, work: Callable[[], str]) -> Any:
        label = dict(CHECKS)[name]
        try:
            detail = work()
        except (LianzhengError, KeyError, ValueError, TypeError, json.JSONDecodeError) as exc:
            message = exc.message if isinstance(exc, LianzhengError) else f"malformed package: {exc!r}"
            self.report.checks.append(Check(name, label, False, message))
            return None
        self.report.checks.append(Check(name, label, True, detail))
        return detail


def verify(path: str | BinaryIO, expect_key: Ed25519PublicKey | None = None,
           chain_check: ChainCheck | None = None) -> Report:
    """Verify the zipped package at `path` (or in a seekable file); `expect_key` is the signing key a court
    was told to expect."""
    report = Report()
    run = _Run(report)
    bag: list[Bag] = []
    run.check("archive", lambda: _archive(path, bag))
    if not bag:
        for name, label in CHECKS[1:]:
            report.checks.append(Check(name, label, False, "not run: the archive was refused"))
        return report
    package = _Package(bag[0])
    run.check("bag", package.structure)
    run.check("manifests", package.manifests)
    run.check("signature", lambda: package.signature(expect_key))
    run.check("checkpoint", package.checkpoint)
    run.check("inclusion", package.inclusion)
    run.check("case-chain", package.case_chain)
    run.check("evidence", package.evidence)
    run.check("derived", package.derived)
    _anchor_check(run, report, package, chain_check)
    report.case_no = package.case_no
    return report


def _anchor_check(run: _Run, report: Report, package: _Package, chain_check: ChainCheck | None) -> None:
    def work() -> str:
        anchor = package.anchor()
        report.anchored = anchor
        if chain_check is None:
            return "the anchor names this tree head; not checked on chain (no --rpc)"
        return chain_check(anchor)

    run.check("anchor", work)
    if chain_check is None and report.checks[-1].passed:
        report.checks[-1].passed = None


def _archive(path: str | BinaryIO, out: list[Bag]) -> str:
    bag = open_bag(path)
    out.append(bag)
    return f"{len(bag.entries)} files in {bag.base}/, no unsafe paths, links, duplicates or bombs"


class _Package:
    """The checks, in the order a court would run them by hand."""

    def __init__(self, bag: Bag) -> None:
        self.bag = bag
        self.case_no: str | None = None
        self.events: list[tuple[int, bytes, Event]] = []
        self.size = 0
        self.root = b""
        self.records: dict[str, dict[str, Any]] = {}
        self.hashed: dict[str, tuple[str, int]] = {}  # each payload file is read and hashed once

    def _hash(self, path: str) -> tuple[str, int]:
        if path not in self.hashed:
            self.hashed[path] = self.bag.sha256(path)
        return self.hashed[path]

    def _json(self, path: str) -> Any:
        return json.loads(self.bag.read(path))

    def structure(self) -> str:
        if self.bag.read("bagit.txt") != BAGIT_TXT:
            raise VerificationError("bagit.txt is not a BagIt 1.0 declaration")
        info = dict(line.split(": ", 1) for line in self.bag.read("bag-info.txt").decode().splitlines() if line)
        self.case_no = info.get("External-Identifier")
        if info.get("Lianzheng-Format") != FORMAT:
            raise VerificationError(f"bag-info.txt names format {info.get('Lianzheng-Format')!r}, not {FORMAT}")
        payload = [p for p in self.bag.entries if p.startswith("data/")]
        octets = sum(self.bag.entries[p].file_size for p in payload)
        if info.get("Payload-Oxum") != f"{octets}.{len(payload)}":
            raise VerificationError(f"Payload-Oxum says {info.get('Payload-Oxum')}, "
                                    f"the bag holds {octets}.{len(payload)}")
        return f"BagIt 1.0, case {self.case_no}, {len(payload)} payload files, {octets:,} bytes"

    def manifests(self) -> str:
        manifest = _manifest(self.bag.read("manifest-sha256.txt"))
        tag_manifest = _manifest(self.bag.read("tagmanifest-sha256.txt"))
        listed = set(manifest) | set(tag_manifest) | {"tagmanifest-sha256.txt", "signature.json"}
        extra = sorted(set(self.bag.entries) - listed)
        if extra:
            raise VerificationError(f"files beyond the manifests: {', '.join(extra[:5])}")
        for name, digest in tag_manifest.items():
            if hashlib.sha256(self.bag.read(name)).hexdigest() != digest:
                raise VerificationError(f"tag file {name} does not match tagmanifest-sha256.txt")
        if "manifest-sha256.txt" not in tag_manifest:
            raise VerificationError("tagmanifest-sha256.txt does not list manifest-sha256.txt")
        for name, digest in sorted(manifest.items()):
            if name not in self.bag.entries:
                raise VerificationError(f"{name} is in the manifest but not in the package")
            actual, _ = self._hash(name)
            if actual != digest:
                raise VerificationError(f"{name} was changed: it hashes to {actual}, the manifest says {digest}")
        return f"{len(manifest)} payload files and {len(tag_manifest)} tag files match their SHA-256"

    def signature(self, expect_key: Ed25519PublicKey | None) -> str:
        sig = self._json("signature.json")
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sig["public_key"]))
        try:
            key.verify(base64.b64decode(sig["signature"]), self.bag.read("tagmanifest-sha256.txt"))
        except InvalidSignature:
            raise VerificationError("the Ed25519 signature over tagmanifest-sha256.txt does not verify") from None
        if expect_key is not None and expect_key.public_bytes_raw() != key.public_bytes_raw():
            raise VerificationError(f"signed by key {sig['key_id']}, not by the key the court was given")
        trust = "the expected key" if expect_key else "the key inside the package (pass --expect-key to pin it)"
        return f"Ed25519 over tagmanifest-sha256.txt by key {sig['key_id']}, {trust}"

    def checkpoint(self) -> str:
        key = self._json("data/log-key.json")
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["public_key"]))
        note = self.bag.read("data/checkpoint.txt").decode()
        checkpoint = verify_note(note, key["origin"], public)
        proofs = self._json("data/proofs.json")
        if (checkpoint.size, checkpoint.root.hex()) != (proofs["size"], proofs["root"]):
            raise VerificationError(f"the proofs are to size {proofs['size']}, the checkpoint is of size "
                                    f"{checkpoint.size}")
        self.size, self.root = checkpoint.size, checkpoint.root
        return f"{key['origin']} size {checkpoint.size}, root {checkpoint.root.hex()}, key {key['key_id']}"

    def inclusion(self) -> str:
        if not self.root:
            raise VerificationError("no verified checkpoint to check the proofs against")
        proofs = self._json("data/proofs.json")["proofs"]
        names = sorted(p for p in self.bag.entries if p.startswith("data/events/"))
        if not names:
            raise VerificationError("the package holds no events")
        for name in names:
            index = int(name.removeprefix("data/events/").removesuffix(".json"))
            data = self.bag.read(name)
            if str(index) not in proofs:
                raise VerificationError(f"event at leaf {index} has no inclusion proof")
            merkle.verify_inclusion(index, self.size, merkle.leaf_hash(data),
                                    [bytes.fromhex(h) for h in proofs[str(index)]], self.root)
            self.events.append((index, data, Event.decode(data)))
        return f"{len(names)} events are leaves of the checkpointed tree"

    def case_chain(self) -> str:
        if not self.events:
            raise VerificationError("no verified events")
        previous: bytes | None = None
        for seq, (index, data, event) in enumerate(self.events):
            if event.case_no != self.case_no:
                raise VerificationError(f"leaf {index} belongs to case {event.case_no}, not {self.case_no}")
            if event.seq != seq:
                raise VerificationError(f"leaf {index} is event {event.seq} of the case, expected {seq}: an event "
                                        "is missing or out of order")
            if event.prev != (previous.hex() if previous else None):
                raise VerificationError(f"leaf {index} does not name the previous event's hash")
            previous = merkle.leaf_hash(data)
        state = lifecycle.replay(self.case_no or "", [(e.type, e.payload) for _, _, e in self.events])
        return f"{len(self.events)} events chained by hash; every step allowed; the case is {state.value}"

    def evidence(self) -> str:
        registered = [e for _, _, e in self.events if e.type == "evidence.registered"]
        for event in registered:
            p = event.payload
            record = self._json(f"data/evidence/{p['evidence_id']}.json")
            name = f"data/evidence/{p['evidence_id']}.{EXTENSIONS.get(p['media_type'], 'bin')}"
            if name not in self.bag.entries:
                raise VerificationError(f"evidence {p['evidence_id']} has no file in the package")
            digest, size = self._hash(name)
            if (digest, size) != (p["sha256"], p["size"]):
                raise VerificationError(f"evidence {p['evidence_id']}: the file hashes to {digest} ({size:,} bytes), "
                                        f"the log recorded {p['sha256']} ({p['size']:,} bytes)")
            if hashlib.sha256(rfc8785.dumps(record["media"])).hexdigest() != p["media_sha256"]:
                raise VerificationError(f"evidence {p['evidence_id']}: its media facts differ from those recorded")
            self.records[p["evidence_id"]] = {**record, "_event": p}
        return f"{len(registered)} evidence files match the hashes, sizes and media facts in the log"

    def derived(self) -> str:
        derived = [r["_event"] for r in self.records.values() if "derived_from" in r["_event"]]
        for p in derived:
            origin = p["derived_from"]
            original = self.records.get(origin["evidence_id"])
            if original is None or original["_event"]["sha256"] != origin["sha256"]:
                raise VerificationError(f"evidence {p['evidence_id']} is derived from {origin['evidence_id']}, "
                                        "which is not in the package with that hash")
        return f"{len(derived)} derived items name originals present in the package" if derived else \
            "no derived items"

    def anchor(self) -> dict[str, Any]:
        anchor = self._json("data/anchor.json")
        if not self.root:
            raise VerificationError("no verified checkpoint to compare the anchor with")
        if (anchor["size"], anchor["root"]) != (self.size, self.root.hex()):
            raise VerificationError(f"the anchor is of size {anchor['size']}, the checkpoint of size {self.size}")
        return anchor


_RESULT = {True: ("pass", "通过 PASS"), False: ("fail", "未通过 FAIL"), None: ("skip", "未运行 NOT RUN")}


def report_html(report: Report) -> str:
    """The verification report as a page, Chinese and English."""
    e = html.escape
    rows = "".join(f"<tr><td>{e(c.label)}</td><td class='{_RESULT[c.passed][0]}'>{_RESULT[c.passed][1]}</td>"
                   f"<td>{e(c.detail)}</td></tr>" for c in report.checks)
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}td{border:1px solid #ccc;padding:.3em}"
             "table{border-collapse:collapse}.pass{color:#060}.fail{color:#b00}")
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>证据包核验报告 Package '
            f"verification report</title><style>{style}</style></head><body><h1>证据包核验报告 Package "
            f"verification report</h1><p><strong>{e(report.statement())}</strong></p><table><tr><th>核验项 Check"
            f"</th><th>结果 Result</th><th>详情 Detail</th></tr>{rows}</table></body></html>\n")


def _manifest(text: bytes) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in text.decode().splitlines():
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or name in entries:
            raise VerificationError(f"malformed manifest line: {line[:100]!r}")
        entries[name] = digest
    return entries


__all__ = ["CHECKS", "HostilePackage", "Report", "report_html", "verify"]
