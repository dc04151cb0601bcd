"""Evidence packages built from plain data in memory: no database, no chain.

`build` writes a real package (evidence.package.write) of a small case: opened,
filed, a photo registered and viewed, with the tree, proofs and checkpoint made
here by the deployment's keys. A forger uses the same function with keys of
their own; tests then tamper with the zip through `entries` and `rewrite`.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence import package
from evidence.contents import EvidenceFile, PackageContents, custody_of
from ledger import merkle, sm2, trust
from ledger.cosignature import cosign
from ledger.events import Event, format_time
from tests.support.trust import EPOCH, Deployment

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8 + b"\xff\xd9"
MEDIA = {"format": "jpeg", "width": 64, "height": 48}


@dataclass
class Case:
    """A case's events as leaves of a log that holds `before` unrelated leaves first."""

    case_no: str = "CG-2026-000001"
    before: int = 3
    files: dict[str, bytes] = field(default_factory=lambda: {"ev-1": PHOTO})
    outcome: dict[str, Any] | None = None
    logged_from: datetime = EPOCH + timedelta(days=59, hours=8)  # its first event, a minute apart

    def steps(self) -> list[tuple[str, dict[str, Any]]]:
        steps: list[tuple[str, dict[str, Any]]] = [
            ("case.reported", {"source": "patrol", "violation_type": "stall", "district": "xuhui"}),
            ("case.filed", {}),
        ]
        for evidence_id, data in self.files.items():
            steps.append(("evidence.registered", _registration(evidence_id, data)))
            steps.append(
                (
                    "evidence.custody",
                    {
                        "evidence_id": evidence_id,
                        "action": "view",
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "role": "supervisor",
                        "reason": "supervision",
                    },
                )
            )
        if self.outcome is not None:  # the case decided and closed
            steps += [
                ("case.investigating", {}),
                ("case.notified", {}),
                ("case.decided", self.outcome),
                ("case.closed", {}),
            ]
        return steps

    def leaves(self) -> list[tuple[int, bytes]]:
        """(index, leaf bytes) of the case's events, each chained to the previous by hash."""
        out, prev = [], None
        for seq, (type_, payload) in enumerate(self.steps()):
            event = Event(
                type_,
                self.case_no,
                seq,
                "officer-1",
                format_time(self.logged_from + timedelta(minutes=seq)),
                prev,
                payload,
            )
            data = event.encode()
            out.append((self.before + seq, data))
            prev = merkle.leaf_hash(data).hex()
        return out


def _registration(evidence_id: str, data: bytes) -> dict[str, Any]:
    return {
        "evidence_id": evidence_id,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "media_type": "image/jpeg",
        "captured_at": "2026-03-01T07:00:00.000000Z",
        "media_sha256": hashlib.sha256(rfc8785.dumps(MEDIA)).hexdigest(),
        "device_signed": False,
        "late": False,
    }


@dataclass
class Built:
    path: Path
    deployment: Deployment
    size: int
    root: bytes


def build(
    deployment: Deployment,
    path: Path,
    case: Case | None = None,
    *,
    signed_at: datetime | None = None,
    sign_with: Ed25519PrivateKey | None = None,
    checkpoint_signer: Any = None,
    anchor: dict[str, Any] | None = None,
    cosigners: list[tuple[str, Ed25519PrivateKey]] | None = None,
    trust_root: dict[str, Any] | None = None,
    stamp: Callable[[bytes], bytes] | None = None,
) -> Built:
    """Write the package of `case` as `deployment` (or a forger holding other keys) would."""
    case = case or Case()
    leaves = case.leaves()
    all_leaves = [f"unrelated {i}".encode() for i in range(case.before)] + [d for _, d in leaves]
    hashes = [merkle.leaf_hash(d) for d in all_leaves]
    size, root = len(hashes), merkle.root_from_leaves(hashes)
    events = [Event.decode(d) for _, d in leaves]
    registrations = {e.payload["evidence_id"]: e for e in events if e.type == "evidence.registered"}
    note = signed_note = (checkpoint_signer or deployment.signer).sign(size, root)
    for name, key in cosigners or []:
        note += cosign(key, name, note.split("\n\n")[0] + "\n", 1_790_000_000)
    contents = PackageContents(
        case_no=case.case_no,
        events=leaves,
        proofs={i: _proof(hashes, i) for i, _ in leaves},
        size=size,
        root=root,
        checkpoint=note,
        log_key={
            "origin": deployment.origin,
            "key_id": deployment.signer.note_key_id.hex(),
            "algorithm": "ed25519",
            "public_key": deployment.checkpoint_key.public_key().public_bytes_raw().hex(),
        },
        trust_root=trust_root or deployment.document(),
        anchor={
            "chain_id": deployment.chain_id,
            "contract": deployment.contract,
            "size": size,
            "root": root.hex(),
            "tx_hash": "0x" + "ab" * 32,
            "block_number": 7,
            "block_hash": "0x" + "cd" * 32,
            "final": True,
            **(anchor or {}),
        },
        custody=custody_of(zip((i for i, _ in leaves), events, strict=True)),
        evidence=[
            EvidenceFile(_record(registrations[eid]), lambda data=data: iter([data]))
            for eid, data in case.files.items()
        ],
        exported_at="2026-03-10T08:00:00.000000Z",
        exported_by="supervisor-1 (supervisor)",
        timestamp=None if stamp is None else (stamp(signed_note.encode()), signed_note),
    )
    seal = package.Signing(
        sign_with or deployment.package_key,
        signed_at or EPOCH + timedelta(days=60),
        deployment.package_sm2,
    )
    with open(path, "wb") as out:
        package.write(contents, out, lambda: seal)
    return Built(path, deployment, size, root)


SM2_FROM_SIZE = 20  # where `upgraded_to_sm2`'s SM2 checkpoint key starts


def upgraded_to_sm2() -> Deployment:
    """An agency that took up 国密 thirty days after its log began, at tree size 20."""
    return Deployment.with_sm2(sm2_from_size=SM2_FROM_SIZE, sm2_from=EPOCH + timedelta(days=30))


def backdated_past_sm2(agency: Deployment, path: Path) -> Built:
    """What an insider holding `agency`'s Ed25519 package key alone would make of events logged
    after the SM2 keys began: a package dated before them, without an SM2 signature."""
    return build(
        replace(agency, package_sm2=None),
        path,
        Case(before=SM2_FROM_SIZE),
        signed_at=EPOCH + timedelta(days=10),
        trust_root=agency.document(),
    )


ROTATED_AT = EPOCH + timedelta(days=30)  # where `rotated` replaces the package key


def rotated(agency: Deployment, new_key: Ed25519PrivateKey) -> dict[str, Any]:
    """`agency`'s root after its package key was replaced by `new_key` at ROTATED_AT, signed by
    the old key as `lianzheng keys rotate package` signs it."""
    document = agency.document()
    document["package_keys"][0]["valid_until"] = ROTATED_AT.strftime("%Y-%m-%dT%H:%M:%SZ")
    document["package_keys"].append(
        trust.package_key_entry(new_key.public_key().public_bytes_raw(), ROTATED_AT)
    )
    return trust.sign_replacement(document, agency.root(), agency.package_key)


def backdated_into_rotated_key(agency: Deployment, path: Path) -> Built:
    """What someone who kept `agency`'s rotated-out package key would make of events logged five
    days after the rotation: a package dated into that key's period."""
    later = Case(logged_from=ROTATED_AT + timedelta(days=5))
    return build(agency, path, later, signed_at=ROTATED_AT - timedelta(days=1))


def _proof(hashes: list[bytes], index: int) -> list[bytes]:
    ranges = merkle.inclusion_ranges(index, len(hashes))
    nodes = {merkle.NodeId(0, i): h for i, h in enumerate(hashes)}
    for level in range(1, len(hashes).bit_length() + 1):
        for i in range(len(hashes) >> level):
            nodes[merkle.NodeId(level, i)] = merkle.node_hash(
                nodes[merkle.NodeId(level - 1, 2 * i)], nodes[merkle.NodeId(level - 1, 2 * i + 1)]
            )
    return merkle.hash_ranges(ranges, nodes)


def _record(registration: Event) -> dict[str, Any]:
    """The item's record as the service shows it (evidence/service.py `item_json`)."""
    p = registration.payload
    return {
        "evidence_id": p["evidence_id"],
        "case_no": registration.case_no,
        "sha256": p["sha256"],
        "size": p["size"],
        "media_type": p["media_type"],
        "officer": registration.actor,
        "device": None,
        "device_signed": False,
        "captured_at": p["captured_at"],
        "registered_at": registration.time,
        "late": False,
        "media": MEDIA,
        "continuity": None,
        "derived_from": None,
        "operation": None,
        "poster": False,
    }


# --- tampering with a written package ------------------------------------------------------------


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def named(found: dict[str, bytes], part: str) -> str:
    return next(n for n in found if part in n)


def rewrite(
    found: dict[str, bytes],
    out: Path,
    resign_with: Ed25519PrivateKey | None = None,
    manifests: bool = True,
    sm2_with: sm2.PrivateKey | None = None,
) -> Path:
    """Write `found` as a zip; with a key, recompute the payload manifests (unless not
    `manifests`), the tag manifest, and re-sign (an insider or a forger holding some key; with
    `sm2_with` an SM2 key too, else without signature-sm2.json), so that only the deeper checks
    can catch the change."""
    if resign_with is not None:
        _resign(found, resign_with, manifests, sm2_with)
    with zipfile.ZipFile(out, "w") as z:
        for name, data in found.items():
            z.writestr(name, data)
    return out


def insider(services: Any) -> dict[str, Any]:
    """`rewrite`'s keys of someone holding a running deployment's current package keys, Ed25519
    and SM2: `rewrite(found, out, **insider(services))`."""
    return {
        "resign_with": services.trust.package_ring.first,
        "sm2_with": services.trust.package_sm2_ring.first,
    }


def _resign(
    found: dict[str, bytes], key: Ed25519PrivateKey, manifests: bool, sm2_key: sm2.PrivateKey | None
) -> None:
    base = next(iter(found)).split("/")[0]
    payload = {n: d for n, d in found.items() if n.startswith(f"{base}/data/")}
    for algorithm in ("sha256", "sm3") if manifests else ():
        found[f"{base}/manifest-{algorithm}.txt"] = "".join(
            f"{hashlib.new(algorithm, d).hexdigest()}  {n[len(base) + 1 :]}\n"
            for n, d in sorted(payload.items())
        ).encode()
    octets = sum(len(d) for d in payload.values())
    info = [
        line if not line.startswith("Payload-Oxum") else f"Payload-Oxum: {octets}.{len(payload)}"
        for line in found[f"{base}/bag-info.txt"].decode().splitlines()
    ]
    found[f"{base}/bag-info.txt"] = ("\n".join(info) + "\n").encode()
    tags = {
        n: d
        for n, d in found.items()
        if n.count("/") == 1
        and not n.endswith(("tagmanifest-sha256.txt", "signature.json", "signature-sm2.json"))
    }
    tagmanifest = "".join(
        f"{hashlib.sha256(d).hexdigest()}  {n[len(base) + 1 :]}\n" for n, d in sorted(tags.items())
    ).encode()
    found[f"{base}/tagmanifest-sha256.txt"] = tagmanifest
    found.pop(f"{base}/signature-sm2.json", None)
    for name, signature in package.Signing(key, EPOCH, sm2_key).signatures(tagmanifest).items():
        found[f"{base}/{name}"] = json.dumps(signature).encode()
