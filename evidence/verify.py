"""The offline verifier of evidence packages, against the trust roots the verifier already holds.

DESIGN.md, What VERIFIED means: a package is VERIFIED only when every leg the
trusted root requires held, each checked against that root and never against
what the package says about itself:

- signed: the package signature by a package key the root lists for the
  signing time (the signer's own claim, so it may not precede the logged
  events the package holds), the checkpoint signature by a checkpoint key
  the root lists for that size (key ids recomputed from the keys);
- witnessed: at least the root's quorum of its witnesses cosigned the checkpoint;
- included: every event and evidence file hashes into that checkpoint;
- anchored: the checkpoint's root is stored at its size in the root's
  contract on the root's chain, with the root's confirmations, when a chain
  was consulted (`chain_check`); otherwise "anchor not checked".

Each check is reported by name as pass, fail, not run (with why) or
incomplete (it could not be completed, e.g. the chain is unreachable). Pure
but for the one file it reads: only the package; it imports nothing that needs a
database, a chain or a running service, so it ships to a court alone. A package whose signature
fails is not hashed further: its files are not the agency's, whatever they hold.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from evidence.bagit import BAGIT_TXT, DEFAULT_LIMITS, ArchiveLimits, Bag, HostilePackage, open_bag
from evidence.contents import (
    EXTENSIONS,
    PACKAGE_FORMAT,
    SIGNATURE_FILE,
    SIGNED_FILE,
    SM2_SIGNATURE_FILE,
    custody_of,
)
from evidence.digests import Digested
from ledger import jsontext, lifecycle, merkle, timestamp, trust
from ledger.checkpoint import parse_note
from ledger.errors import CheckIncomplete, LianzhengError, VerificationError
from ledger.event_types import EVIDENCE_LINKED, EVIDENCE_REGISTERED
from ledger.events import Event, format_time, parse_time
from ledger.projection import INTAKE
from ledger.trust import ChainPin, PackageKey, TrustRoot, TrustRoots, VerifiedCheckpoint
from ledger.verdict import EXIT_CODES, RESULT_WORDS, WORDS, Status, Verdict, verdict_of

# The chain check a caller may pass: (the root's pin, the package's anchor claim) -> what the chain
# confirmed. Raises VerificationError when the chain contradicts the claim, CheckIncomplete when it
# cannot tell (unreachable, not final yet).
ChainCheck = Callable[[ChainPin, dict[str, Any]], str]


# How far a package's signing time may precede the events it holds: the clocks of two web nodes on
# one database may differ by this much (a node seals under the log's lock, after every event it
# holds was logged). A holder of a rotated-out package key gains at most this past its period.
CLOCK_SKEW = timedelta(minutes=5)

TIMESTAMP_FILE = "data/checkpoint-timestamp.tsr"  # DER, as openssl ts -verify -token_in reads it
STAMPED_NOTE_FILE = "data/checkpoint-stamped.txt"  # the bytes it stamps: the note the log signed

LEGS = {
    "signed": "签名 signed",
    "witnessed": "见证 witnessed",
    "included": "包含 included",
    "anchored": "锚定 anchored",
}

# (name, label, leg), in the order they run.
CHECKS = [
    ("archive", "安全的压缩包 safe archive", "included"),
    ("bag", "BagIt 结构 bag structure", "included"),
    ("root", "信任根 trusted root for this log", "signed"),
    ("signature", "证据包签名 package signature", "signed"),
    ("checkpoint", "检查点签名 checkpoint signature", "signed"),
    ("witnesses", "见证人联署 witness cosignatures", "witnessed"),
    ("inclusion", "事件包含证明 inclusion proofs", "included"),
    ("signing-time", "签名时间不早于所含事件 signing time after the events it holds", "signed"),
    ("case-chain", "案件事件链与程序 case event chain and steps", "included"),
    ("manifests", "文件与清单一致 files match the manifests", "included"),
    ("evidence", "证据文件与登记一致 evidence files match their records", "included"),
    ("derived", "派生证据与原件 derived items and their originals", "included"),
    ("custody", "保管记录与日志一致 custody trail matches the log", "included"),
    ("timestamp", "可信时间戳 RFC 3161 time-stamp", "anchored"),
    ("anchor", "链上锚定 anchored on chain", "anchored"),
]
_LABELS = {name: (label, leg) for name, label, leg in CHECKS}
# the record itself
EVENT_CHECKS = ("signature", "checkpoint", "inclusion", "signing-time", "case-chain")
FILE_CHECKS = frozenset({"manifests", "evidence", "derived"})  # the files it describes


class _NotRun(Exception):
    """A check that cannot run because an earlier one did not establish what it needs."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass
class PackageCheck:
    name: str
    label: str
    leg: str
    status: Status
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "check": self.name,
            "label": self.label,
            "leg": self.leg,
            "status": self.status.value,
            "detail": self.detail,
        }


@dataclass
class PackageReport:
    """Every check, the root they were made against, and the verdict they add up to."""

    checks: list[PackageCheck] = field(default_factory=list)
    root: dict[str, str] | None = None  # agency, fingerprint, log_origin of the matched root
    case_no: str | None = None
    anchored: dict[str, Any] | None = None
    chain_required: bool = False
    coverage: dict[str, list[str]] = field(default_factory=dict)

    def check(self, name: str) -> PackageCheck:
        return next(c for c in self.checks if c.name == name)

    @property
    def verdict(self) -> Verdict:
        anchor = next((c.status for c in self.checks if c.name == "anchor"), Status.NOT_RUN)
        return verdict_of((c.status for c in self.checks), self.chain_required, anchor)

    @property
    def passed(self) -> bool:
        return self.verdict == Verdict.VERIFIED

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def leg(self, leg: str) -> Status:
        """A leg's status: fail or incomplete if any of its checks is; pass only if every one passed
        (a leg whose inclusion proofs were never checked has not passed, whatever else in it
        did)."""
        statuses = [c.status for c in self.checks if c.leg == leg]
        for worst in (Status.FAIL, Status.INCOMPLETE):
            if worst in statuses:
                return worst
        return (
            Status.PASS if statuses and all(s == Status.PASS for s in statuses) else Status.NOT_RUN
        )

    def failed(self) -> list[PackageCheck]:
        """The checks that failed, in the order they ran."""
        return [c for c in self.checks if c.status == Status.FAIL]

    def only_files_altered(self) -> bool:
        """Whether the events stand and only files fail: the signature, the checkpoint, the
        inclusion proofs and the case's chain passed, and every failure is a file check. Then the
        record is intact and a file was changed after it was recorded."""
        standing = all(self.check(name).status == Status.PASS for name in EVENT_CHECKS)
        failed = self.failed()
        return standing and bool(failed) and all(c.name in FILE_CHECKS for c in failed)

    def headline(self) -> str:
        """The verdict, the root it was reached against, and each leg in a word."""
        against = (
            f"{self.root['agency']} (trust root {self.root['fingerprint']})"
            if self.root
            else "no trusted root"
        )
        legs = "; ".join(f"{LEGS[leg]}: {self._leg_words(leg)}" for leg in LEGS)
        return f"{WORDS[self.verdict]} — against {against}. {legs}."

    def _leg_words(self, leg: str) -> str:
        status = self.leg(leg)
        if leg in ("witnessed", "anchored") and status != Status.FAIL:
            name = "witnesses" if leg == "witnessed" else "anchor"
            return self.check(name).detail.removeprefix("not run: ")
        return status.value

    def statement(self) -> str:
        """Exactly what is proven, and what is not."""
        if self.verdict == Verdict.NOT_VERIFIED:
            failed = ", ".join(c.name for c in self.checks if c.status == Status.FAIL)
            return (
                "未通过核验：不能认定包内内容与记录时一致。 "
                "NOT VERIFIED: nothing in this package may "
                f"be taken as unchanged since it was recorded (failed: {failed})."
            )
        if self.verdict == Verdict.INCOMPLETE:
            open_ = ", ".join(
                c.name for c in self.checks if c.status == Status.INCOMPLETE or c.name == "anchor"
            )
            return (
                "核验未完成：必需的核验项无法完成。 INCOMPLETE: a check the trusted root requires "
                f"could not be completed ({open_}); this is not a verified result."
            )
        return self._verified_statement()

    def _verified_statement(self) -> str:
        a, root = self.anchored or {}, self.root or {}
        anchor = self.check("anchor")
        where = (
            f"anchored: {anchor.detail}"
            if anchor.status == Status.PASS
            else "anchor not checked (offline): the chain was not consulted"
        )
        signature_only = ", ".join(self.coverage.get("signature_only", [])) or "none"
        return (
            f"已核验 VERIFIED against the trusted root of {root.get('agency')} (fingerprint "
            f"{root.get('fingerprint')}): the events and files of case {self.case_no} are "
            f"unchanged since they were recorded (上链后未被篡改); the log's tree head of size "
            f"{a.get('size')} is {where}. Files only the agency's signature covers, not the "
            f"log: {signature_only}. This does not prove that the content was authentic before "
            "it was recorded. 本核验不证明记录之前内容的真实性。"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "root": self.root,
            "case_no": self.case_no,
            "headline": self.headline(),
            "statement": self.statement(),
            "chain_required": self.chain_required,
            "legs": {leg: self.leg(leg).value for leg in LEGS},
            "anchored": self.anchored,
            "coverage": self.coverage,
            "checks": [c.to_json() for c in self.checks],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PackageReport:
        """A report as `to_json` wrote it (the court page reads its verifier process's report)."""
        checks = [
            PackageCheck(c["check"], c["label"], c["leg"], Status(c["status"]), c["detail"])
            for c in data["checks"]
        ]
        return cls(
            checks,
            data["root"],
            data["case_no"],
            data["anchored"],
            data["chain_required"],
            data["coverage"],
        )


def verify(
    path: str | IO[bytes],
    roots: TrustRoots,
    chain_check: ChainCheck | None = None,
    *,
    require_chain: bool = False,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> PackageReport:
    """Verify the zipped package at `path` (or in a seekable file) against `roots`.

    `chain_check` consults the chain; without it the anchor is "not checked". With
    `require_chain` (or a root that requires it) an unchecked anchor makes the verdict INCOMPLETE.
    """
    report = PackageReport(chain_required=require_chain)
    bag: list[Bag] = []
    _run(report, "archive", lambda: _archive(path, limits, bag))
    if not bag:
        for name, _, _ in CHECKS[1:]:
            _record(report, name, Status.NOT_RUN, "not run: the archive was refused")
        return report
    package = _Package(bag[0], roots, report)
    for name, work in package.checks():
        _run(report, name, work)
    _anchor_check(report, package, chain_check)
    report.case_no = package.case_no
    report.coverage = package.coverage()
    return report


def _record(report: PackageReport, name: str, status: Status, detail: str) -> None:
    label, leg = _LABELS[name]
    report.checks.append(PackageCheck(name, label, leg, status, detail))


def _run(report: PackageReport, name: str, work: Callable[[], str]) -> None:
    try:
        detail = work()
    except _NotRun as exc:
        _record(report, name, Status.NOT_RUN, f"not run: {exc.why}")
    except CheckIncomplete as exc:
        _record(report, name, Status.INCOMPLETE, exc.message)
    except LianzhengError as exc:
        _record(report, name, Status.FAIL, exc.message)
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        _record(report, name, Status.FAIL, f"malformed package: {exc!r}"[:500])
    else:
        _record(report, name, Status.PASS, detail)


def _archive(path: str | IO[bytes], limits: ArchiveLimits, out: list[Bag]) -> str:
    bag = open_bag(path, limits)
    out.append(bag)
    return f"{len(bag.entries)} files in {bag.base}/, no unsafe paths, links, duplicates or bombs"


def _anchor_check(report: PackageReport, package: _Package, chain_check: ChainCheck | None) -> None:
    def work() -> str:
        claim, pin = package.anchor_claim()
        report.anchored = {
            k: claim.get(k)
            for k in ("chain_id", "contract", "size", "root", "tx_hash", "block_number")
        }
        if chain_check is None:
            raise _NotRun(
                "anchor not checked: offline (the chain was not consulted; run with --rpc URL)"
            )
        detail = chain_check(pin, claim)
        package.log_backed.add("data/anchor.json")  # the chain itself holds what it claims
        return detail

    if package.root is not None and package.root.require_chain_check:
        report.chain_required = True
    _run(report, "anchor", work)


class _Package:
    """The checks, in the order a court would run them by hand; each returns what it established."""

    def __init__(self, bag: Bag, roots: TrustRoots, report: PackageReport) -> None:
        self.bag, self.roots, self.report = bag, roots, report
        self.case_no: str | None = None
        self.info: dict[str, str] = {}
        self.root: TrustRoot | None = None
        self.note = ""  # data/checkpoint.txt, read where the root is found (its origin names it)
        self.signed = False
        self.verified: VerifiedCheckpoint | None = None
        self.events: list[tuple[int, bytes, Event]] = []
        self.intake: dict[int, tuple[bytes, Event]] = {}  # registrations of linked footage
        self.records: dict[str, dict[str, Any]] = {}
        self.log_backed: set[str] = set()
        self.hashed: dict[
            str, tuple[Digested, int]
        ] = {}  # each payload file is read and hashed once

    def checks(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("bag", self.structure),
            ("root", self.find_root),
            ("signature", self.signature),
            ("checkpoint", self.checkpoint),
            ("witnesses", self.witnesses),
            ("inclusion", self.inclusion),
            ("signing-time", self.signing_time),
            ("case-chain", self.case_chain),
            ("manifests", self.manifests),
            ("evidence", self.evidence),
            ("derived", self.derived),
            ("custody", self.custody),
            ("timestamp", self.timestamp),
        ]

    def _hash(self, path: str) -> tuple[Digested, int]:
        if path not in self.hashed:
            self.hashed[path] = self.bag.digests(path)
        return self.hashed[path]

    def structure(self) -> str:
        if self.bag.read("bagit.txt") != BAGIT_TXT:
            raise VerificationError("bagit.txt is not a BagIt 1.0 declaration")
        lines = self.bag.read("bag-info.txt").decode().splitlines()
        self.info = dict(line.split(": ", 1) for line in lines if line)
        self.case_no = self.info.get("External-Identifier")
        named = self.info.get("Lianzheng-Format")
        if named != PACKAGE_FORMAT:
            raise VerificationError(f"bag-info.txt names format {named!r}, not {PACKAGE_FORMAT}")
        payload = [p for p in self.bag.entries if p.startswith("data/")]
        octets = sum(self.bag.entries[p].file_size for p in payload)
        if self.info.get("Payload-Oxum") != f"{octets}.{len(payload)}":
            raise VerificationError(
                f"Payload-Oxum says {self.info.get('Payload-Oxum')}, "
                f"the bag holds {octets}.{len(payload)}"
            )
        return f"BagIt 1.0, case {self.case_no}, {len(payload)} payload files, {octets:,} bytes"

    def find_root(self) -> str:
        note = self.note = self.bag.read("data/checkpoint.txt", 64 << 10).decode()
        origin = note.split("\n", 1)[0]
        self.root = self.roots.for_origin(origin)
        if self.root is None:
            known = ", ".join(repr(o) for o in self.roots.origins()) or "none"
            raise VerificationError(
                f"no trusted root names log origin {origin!r} (trusted origins: "
                f"{known}); add the agency's root with `lianzheng trust add`"
            )
        root = self.root
        self.report.root = {
            "agency": root.agency,
            "fingerprint": root.fingerprint,
            "log_origin": root.log_origin,
        }
        claimed = self.info.get("Lianzheng-Trust-Root")
        told = (
            ""
            if claimed in (None, root.fingerprint)
            else (f"; the package names root {claimed}, which was not used")
        )
        return f"{root.agency}, log {origin!r}, trust root {root.fingerprint}{told}"

    def _need_root(self) -> TrustRoot:
        if self.root is None:
            raise _NotRun("no trusted root for this package's log")
        return self.root

    def signature(self) -> str:
        self._need_root()
        tag_manifest = self.bag.read("tagmanifest-sha256.txt")
        listed = _manifest(tag_manifest)
        for name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt"):
            if name not in listed:
                raise VerificationError(f"tagmanifest-sha256.txt does not list {name}")
        for name, digest in listed.items():
            if hashlib.sha256(self.bag.read(name)).hexdigest() != digest:
                raise VerificationError(f"tag file {name} does not match tagmanifest-sha256.txt")
        signed_at = _signed_at(self.info)
        key = self._signature_file(SIGNATURE_FILE, trust.ED25519, tag_manifest, signed_at)
        beside = self._sm2_signature(tag_manifest, signed_at)
        self.signed = True
        return (
            f"Ed25519 over tagmanifest-sha256.txt by package key {key.key_id} of the trusted "
            f"root (valid {key.period()}), signed at {format_time(signed_at)}; {beside}"
        )

    def _signature_file(
        self, name: str, algorithm: str, tag_manifest: bytes, signed_at: datetime
    ) -> PackageKey:
        """The root's package key whose `algorithm` signature in `name` covers the tag manifest."""
        sig = self.bag.json(name)
        if sig.get("algorithm") != algorithm or sig.get("signed_file") != SIGNED_FILE:
            raise VerificationError(f"{name} is not an {algorithm} signature over {SIGNED_FILE}")
        try:
            public_key = bytes.fromhex(str(sig.get("public_key")))
            signature = base64.b64decode(str(sig.get("signature")), validate=True)
        except ValueError:
            raise VerificationError(f"{name}: its key or signature is not hex and base64") from None
        return trust.verify_package_signature(
            self._need_root(), public_key, signature, tag_manifest, signed_at, algorithm
        )

    def _sm2_signature(self, tag_manifest: bytes, signed_at: datetime) -> str:
        """The SM2 signature beside the Ed25519 one (DESIGN.md: 国密 digests and signatures):
        required where the trusted root lists an SM2 package key for the signing time, or
        requires the SM2 line on the package's checkpoint (ledger/trust.py)."""
        root, size = self._need_root(), self._claimed_size()
        required = (
            root.sm2_package_key(signed_at)
            if size is None
            else root.sm2_package_key_over(signed_at, size)
        )
        present = SM2_SIGNATURE_FILE in self.bag.entries
        if required is None:
            if present:
                return f"{SM2_SIGNATURE_FILE} not checked: the trusted root lists no SM2 key then"
            return "no SM2 signature, and the trusted root requires none"
        if not present:
            why = (
                ""
                if required.covers(signed_at)
                else f", since its checkpoint (size {size}) is one the log signed with SM2 and "
                f"the package cannot be older than that, whatever its signing time says"
            )
            raise VerificationError(
                f"the trusted root requires an SM2 signature by package key {required.key_id} "
                f"(valid {required.period()}){why}; the package has no {SM2_SIGNATURE_FILE}"
            )
        key = self._signature_file(SM2_SIGNATURE_FILE, trust.SM2, tag_manifest, signed_at)
        return f"SM2 with SM3 by package key {key.key_id} ({SM2_SIGNATURE_FILE})"

    def _claimed_size(self) -> int | None:
        """The tree size the package's checkpoint claims, checked by the `checkpoint` check; None
        where it cannot be read, and that check then fails."""
        try:
            return parse_note(self.note)[0].size
        except VerificationError:
            return None

    def checkpoint(self) -> str:
        root = self._need_root()
        verified = trust.verify_checkpoint(root, self.note)
        proofs = self.bag.json("data/proofs.json")
        checkpoint = verified.checkpoint
        if (checkpoint.size, checkpoint.root.hex()) != (proofs["size"], proofs["root"]):
            raise VerificationError(
                f"the proofs are to size {proofs['size']}, the checkpoint is "
                f"of size {checkpoint.size}"
            )
        self.verified = verified
        self.log_backed.update({"data/checkpoint.txt", "data/proofs.json"})
        return (
            f"{checkpoint.origin} size {checkpoint.size}, root {checkpoint.root.hex()}, signed "
            f"by {verified.signers()} of the trusted root"
        )

    def _need_checkpoint(self) -> VerifiedCheckpoint:
        if self.verified is None:
            raise _NotRun("no checkpoint verified against the trusted root")
        return self.verified

    def witnesses(self) -> str:
        found = trust.check_witnesses(self._need_root(), self._need_checkpoint())
        if found is None:
            raise _NotRun("no witnesses configured: the trusted root asks for none")
        return found

    def timestamp(self) -> str:
        """The checkpoint's RFC 3161 token, against the authority the trusted root names: over
        the note as the log signed it (no cosignature lines), of this very tree head."""
        root = self._need_root()
        if root.tsa is None:
            raise _NotRun("no time-stamping authority: the trusted root names none")
        verified = self._need_checkpoint()
        if TIMESTAMP_FILE not in self.bag.entries:
            raise CheckIncomplete(
                "the package holds no time-stamp of its checkpoint (stamping follows anchoring: "
                "export it again later)"
            )
        token = self.bag.read(TIMESTAMP_FILE, timestamp.MAX_TOKEN_BYTES)
        stamped_note = self.bag.read(STAMPED_NOTE_FILE, 64 << 10)
        stamped = trust.verify_checkpoint(root, stamped_note.decode()).checkpoint
        if stamped != verified.checkpoint:
            raise VerificationError(
                f"the stamped note is of size {stamped.size}, the checkpoint of size "
                f"{verified.checkpoint.size}"
            )
        found = timestamp.verify(token, stamped_note, root.tsa)
        self.log_backed.update({TIMESTAMP_FILE, STAMPED_NOTE_FILE})
        return (
            f"the checkpoint was stamped by {found.authority} at {format_time(found.time)} "
            f"(token serial {found.serial:x})"
        )

    def inclusion(self) -> str:
        verified = self._need_checkpoint()
        tree = (verified.checkpoint.size, verified.checkpoint.root)
        proofs = self.bag.json("data/proofs.json")["proofs"]
        events = self._proven("data/events/", "event", proofs, tree)
        if not events:
            raise VerificationError("the package holds no events")
        self.events = [(index, data, Event.decode(data)) for index, data in events]
        intake = self._proven("data/intake/", "intake registration", proofs, tree)
        self.intake = {index: (data, Event.decode(data)) for index, data in intake}
        more = f" with {len(intake)} intake registrations of linked footage" if intake else ""
        return f"{len(events)} events{more} are leaves of the checkpointed tree"

    def _proven(
        self, folder: str, what: str, proofs: dict[str, Any], tree: tuple[int, bytes]
    ) -> list[tuple[int, bytes]]:
        """Each leaf file under `folder`, in index order, proven to be in the checkpointed tree."""
        names = sorted(p for p in self.bag.entries if p.startswith(folder))
        found = []
        for name in names:
            index = int(name.removeprefix(folder).removesuffix(".json"))
            data = self.bag.read(name, 1 << 20)
            if str(index) not in proofs:
                raise VerificationError(f"{what} at leaf {index} has no inclusion proof")
            hashes = [bytes.fromhex(h) for h in proofs[str(index)]]
            merkle.verify_inclusion(index, tree[0], merkle.leaf_hash(data), hashes, tree[1])
            found.append((index, data))
        self.log_backed.update(names)
        return found

    def signing_time(self) -> str:
        """The signing time, the signer's own claim that picks the package key's period, is no
        earlier than any leaf the package proves the log holds: those times the checkpoint key
        vouches for. Else whoever kept a rotated-out package key could date a package of today's
        events back into that key's period."""
        if not self.signed:
            raise _NotRun("the package signature did not verify, so its signing time is no claim")
        if not self.events:
            raise _NotRun("no events were shown to be in the log")
        signed_at = _signed_at(self.info)
        leaves = [(i, e) for i, _, e in self.events] + [(i, e) for i, (_, e) in self.intake.items()]
        index, last = max(((i, parse_time(e.time)) for i, e in leaves), key=lambda p: p[1])
        if last > signed_at + CLOCK_SKEW:
            raise VerificationError(
                f"leaf {index} was logged at {format_time(last)}, after the signing time "
                f"{format_time(signed_at)}: the signing time is false, so the package key's "
                "period proves nothing"
            )
        return (
            f"signed at {format_time(signed_at)}, not before the last of the {len(leaves)} "
            f"logged events it holds (leaf {index}, {format_time(last)})"
        )

    def case_chain(self) -> str:
        if not self.events:
            raise _NotRun("no events were shown to be in the log")
        previous: bytes | None = None
        for seq, (index, data, event) in enumerate(self.events):
            if event.case_no != self.case_no:
                raise VerificationError(
                    f"leaf {index} belongs to case {event.case_no}, not {self.case_no}"
                )
            if event.seq != seq:
                raise VerificationError(
                    f"leaf {index} is event {event.seq} of the case, expected "
                    f"{seq}: an event is missing or out of order"
                )
            if event.prev != (previous.hex() if previous else None):
                raise VerificationError(f"leaf {index} does not name the previous event's hash")
            previous = merkle.leaf_hash(data)
        steps = [(e.type, e.payload) for _, _, e in self.events]
        state = lifecycle.replay(self.case_no or "", steps)
        chained = f"{len(self.events)} events chained by hash"
        return f"{chained}; every step allowed; the case is {state.value}"

    def _need_signature(self) -> None:
        if not self.signed:
            raise _NotRun("the package signature did not verify, so its files were not hashed")

    def manifests(self) -> str:
        self._need_signature()
        manifest = _manifest(self.bag.read("manifest-sha256.txt"))
        tags = set(_manifest(self.bag.read("tagmanifest-sha256.txt")))
        listed = set(manifest) | tags | {SIGNED_FILE, SIGNATURE_FILE, SM2_SIGNATURE_FILE}
        extra = sorted(set(self.bag.entries) - listed)
        if extra:
            raise VerificationError(
                f"files beyond the manifests, which nothing covers: {', '.join(extra[:5])}"
            )
        for name, digest in sorted(manifest.items()):
            if name not in self.bag.entries:
                raise VerificationError(f"{name} is in the manifest but not in the package")
            actual = self._hash(name)[0].sha256
            if actual != digest:
                raise VerificationError(
                    f"{name} was changed: it hashes to {actual}, the manifest says {digest}"
                )
        sm3 = self._sm3_manifest(set(manifest))
        return f"{len(manifest)} payload files and {len(tags)} tag files match their SHA-256{sm3}"

    def _sm3_manifest(self, names: set[str]) -> str:
        """Check manifest-sm3.txt (DESIGN.md: 国密 digests) against the files; what it showed."""
        if "manifest-sm3.txt" not in self.bag.entries:
            return "; the package has no SM3 manifest (made before 国密 digests)"
        manifest = _manifest(self.bag.read("manifest-sm3.txt"))
        if set(manifest) != names:
            differ = sorted(set(manifest) ^ names)
            raise VerificationError(
                f"manifest-sm3.txt lists other files than manifest-sha256.txt: {differ[:5]}"
            )
        for name, digest in sorted(manifest.items()):
            actual = self._hash(name)[0].sm3
            if actual != digest:
                raise VerificationError(
                    f"{name} was changed: its SM3 is {actual}, manifest-sm3.txt says {digest}"
                )
        return " and SM3"

    def evidence(self) -> str:
        self._need_signature()
        if not self.events:
            raise _NotRun("no events were shown to be in the log")
        registered = [e for _, _, e in self.events if e.type == EVIDENCE_REGISTERED]
        registered += [
            self._registration(e) for _, _, e in self.events if e.type == EVIDENCE_LINKED
        ]
        for registration in registered:
            self._one_item(registration)
        return (
            f"{len(registered)} evidence files and their records match the hashes, sizes, times "
            "and media facts in the log"
        )

    def _registration(self, link: Event) -> Event:
        """The intake registration a link event names, checked to be that leaf and that file."""
        p = link.payload
        found = self.intake.get(p["intake_index"])
        if found is None:
            raise VerificationError(
                f"evidence {p['evidence_id']} is linked from leaf {p['intake_index']}, which the "
                "package does not hold"
            )
        data, registration = found
        if merkle.leaf_hash(data).hex() != p["intake_leaf"]:
            raise VerificationError(
                f"leaf {p['intake_index']} is not the registration evidence {p['evidence_id']}'s "
                "link names (another leaf hash)"
            )
        facts = registration.payload
        if (
            registration.type != EVIDENCE_REGISTERED
            or registration.case_no != INTAKE
            or (facts.get("evidence_id"), facts.get("sha256")) != (p["evidence_id"], p["sha256"])
        ):
            raise VerificationError(
                f"leaf {p['intake_index']} does not register docked footage "
                f"{p['evidence_id']} with hash {p['sha256']}"
            )
        return registration

    def _one_item(self, registration: Event) -> None:
        p = registration.payload
        record = self.bag.json(f"data/evidence/{p['evidence_id']}.json")
        name = f"data/evidence/{p['evidence_id']}.{EXTENSIONS.get(p['media_type'], 'bin')}"
        if name not in self.bag.entries:
            raise VerificationError(f"evidence {p['evidence_id']} has no file in the package")
        digested, size = self._hash(name)
        if (digested.sha256, size) != (p["sha256"], p["size"]):
            raise VerificationError(
                f"evidence {p['evidence_id']}: the file hashes to {digested.sha256} "
                f"({size:,} bytes), the log recorded {p['sha256']} ({p['size']:,} bytes)"
            )
        if p.get("sm3") is not None and digested.sm3 != p["sm3"]:
            raise VerificationError(
                f"evidence {p['evidence_id']}: the file's SM3 is {digested.sm3}, the log "
                f"recorded {p['sm3']}"
            )
        if (
            hashlib.sha256(jsontext.canonical_bytes(record["media"])).hexdigest()
            != p["media_sha256"]
        ):
            raise VerificationError(
                f"evidence {p['evidence_id']}: its media facts differ from those recorded"
            )
        wrong = _disagreements(record, registration, self.case_no)
        if wrong:
            raise VerificationError(
                f"evidence {p['evidence_id']}: its record (data/evidence/{p['evidence_id']}.json) "
                f"says otherwise than the log about {', '.join(wrong)}"
            )
        self.records[p["evidence_id"]] = {**record, "_event": p}
        self.log_backed.add(name)

    def derived(self) -> str:
        if not self.records and not self.events:
            raise _NotRun("no evidence was checked against the log")
        self._need_signature()
        derived = [r["_event"] for r in self.records.values() if "derived_from" in r["_event"]]
        for p in derived:
            origin = p["derived_from"]
            original = self.records.get(origin["evidence_id"])
            if original is None or original["_event"]["sha256"] != origin["sha256"]:
                raise VerificationError(
                    f"evidence {p['evidence_id']} is derived from "
                    f"{origin['evidence_id']}, which is not in the package with that hash"
                )
        if not derived:
            return "no derived items"
        return f"{len(derived)} derived items name originals present in the package"

    def custody(self) -> str:
        if not self.events:
            raise _NotRun("no events were shown to be in the log")
        expected = custody_of([(i, e) for i, _, e in self.events])
        found = self.bag.json("data/custody.json")
        if found != expected:
            missing = [e["index"] for e in expected if e not in found]
            added = (
                [e.get("index") for e in found if e not in expected]
                if isinstance(found, list)
                else ["(not a list)"]
            )
            raise VerificationError(
                f"custody.json differs from the custody events in the log: "
                f"leaves missing {missing[:10]}, entries not in the log {added[:10]}"
            )
        self.log_backed.add("data/custody.json")
        return f"{len(expected)} custody entries, each one a log event of this package"

    def anchor_claim(self) -> tuple[dict[str, Any], ChainPin]:
        """The package's anchor claim, checked to name the checkpoint and the root's chain pin."""
        root, verified = self._need_root(), self._need_checkpoint()
        claim = self.bag.json("data/anchor.json")
        pin = trust.pin_of_claim(
            root,
            verified.checkpoint,
            claim["chain_id"],
            claim["contract"],
            claim["size"],
            claim["root"],
        )
        if pin is None:
            raise _NotRun("the trusted root names no chain")
        return claim, pin

    def coverage(self) -> dict[str, list[str]]:
        """Which payload files the log backs, and which only the agency's signature covers."""
        payload = sorted(p for p in self.bag.entries if p.startswith("data/"))
        backed = [p for p in payload if p in self.log_backed]
        rest = [p for p in payload if p not in self.log_backed]
        key = "signature_only" if self.signed else "not_covered"
        return {"log": backed, key: rest}


def _disagreements(record: dict[str, Any], registration: Event, case_no: str | None) -> list[str]:
    """The fields of an item's record that say otherwise than its registration in the log, as
    evidence/projection.py reads one: readers take the capture time, the lateness, the device and
    the hashes from the record, so what the log also says must be what the record says."""
    p = registration.payload
    logged = {
        "evidence_id": p["evidence_id"],
        "case_no": case_no,
        "sha256": p["sha256"],
        "sm3": p.get("sm3"),
        "size": p["size"],
        "media_type": p["media_type"],
        "officer": registration.actor,
        "device": p.get("device"),
        "device_signed": bool(p.get("device_signed")),
        "late": bool(p.get("late")),
        "derived_from": (p.get("derived_from") or {}).get("evidence_id"),
        "operation": p.get("operation"),
    }
    moments = {"captured_at": p.get("captured_at"), "registered_at": registration.time}
    wrong = [name for name, value in logged.items() if name in record and record[name] != value]
    for name, value in moments.items():
        if name in record and not _same_moment(record[name], value):
            wrong.append(name)
    return wrong


def _same_moment(claimed: object, logged: object) -> bool:
    try:
        return parse_time(claimed) == parse_time(logged)
    except VerificationError:
        return False


def _signed_at(info: dict[str, str]) -> datetime:
    text = info.get("Lianzheng-Signed-At")
    if text is None:
        raise VerificationError(
            "bag-info.txt does not say when the package was signed (Lianzheng-Signed-At)"
        )
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise VerificationError(f"Lianzheng-Signed-At {text!r} has no time zone")
    return moment


def report_html(report: PackageReport) -> str:
    """The verification report as a page, Chinese and English."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(c.label)}</td><td class='{c.status.name.lower()}'>"
        f"{RESULT_WORDS[c.status]}</td><td>{e(c.detail)}</td></tr>"
        for c in report.checks
    )
    covered = "".join(
        f"<li><code>{e(p)}</code></li>" for p in report.coverage.get("signature_only", [])
    )
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "td{border:1px solid #ccc;padding:.3em}table{border-collapse:collapse}"
        ".pass{color:#060}.fail{color:#b00}.incomplete{color:#a60}"
    )
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>证据包核验报告 '
        f"Package verification report</title><style>{style}</style></head><body><h1>证据包核验"
        f"报告 Package verification report</h1><p><strong>{e(report.headline())}</strong></p>"
        f"<p>{e(report.statement())}</p><table><tr><th>核验项 PackageCheck</th><th>结果 Result</th>"
        f"<th>详情 Detail</th></tr>{rows}</table><h2>仅由机关签名覆盖的文件 Files only the "
        f"agency's signature covers</h2><ul>{covered or '<li>—</li>'}</ul></body></html>\n"
    )


def _manifest(text: bytes) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in text.decode().splitlines():
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or name in entries:
            raise VerificationError(f"malformed manifest line: {line[:100]!r}")
        entries[name] = digest
    return entries


__all__ = [
    "CHECKS",
    "ChainCheck",
    "HostilePackage",
    "PackageReport",
    "Status",
    "Verdict",
    "report_html",
    "verify",
]
