"""Signed evidence packages (DESIGN.md: Formats): a zipped BagIt bag of a case, built from plain
data.

The caller gathers the data (events, proofs, checkpoint, anchor, custody,
evidence files); nothing here touches a database, so the verifier that reads
the same layout ships alone. Layout inside the bag:

    data/events/<leaf index>.json    each event's exact leaf bytes (RFC 8785 JSON)
    data/intake/<leaf index>.json    the intake registration an evidence.linked event names
    data/proofs.json                 {"size", "root", "proofs": {"<index>": [hex, ...]}}
    data/checkpoint.txt              the signed checkpoint (C2SP note) of that size
    data/log-key.json                {"origin", "key_id", "algorithm", "public_key"}: the key
                                     that signed the checkpoint, a claim; verifiers use their
                                     trust root
    data/trust-root.json             the deployment's trust root when the package was made, a
                                     claim to compare (by fingerprint) with the court's
    data/anchor.json                 {"chain_id", "contract", "size", "root", "tx_hash", ...}
    data/custody.json                the custody trail of every item, derived from the events
    data/evidence/<id>.json, .<ext>  each item's record (with its media facts) and its file
    data/report.html, report.pdf     the human-readable report, Chinese and English
    signature.json                   Ed25519 over tagmanifest-sha256.txt, with the key and its id
    signature-sm2.json               SM2 (SM3, default user id) over the same file, the same way

bag-info.txt names the signing time (`Lianzheng-Signed-At`, RFC 3339 UTC),
which the trust root's package-key periods are checked against, and the trust
root's fingerprint (`Lianzheng-Trust-Root`).
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evidence.bagit import BagWriter
from evidence.contents import (
    EXTENSIONS,
    PACKAGE_FORMAT,
    SIGNATURE_FILE,
    SIGNED_FILE,
    SM2_SIGNATURE_FILE,
    PackageContents,
)
from ledger import sm2, trust
from ledger.events import format_time


@dataclass(frozen=True)
class Signing:
    """The package keys and the time they sign at, chosen when the package is sealed."""

    key: Ed25519PrivateKey
    signed_at: datetime
    sm2_key: sm2.PrivateKey | None = None  # signs beside the Ed25519 key, never instead

    @property
    def key_id(self) -> str:
        return trust.package_key_id(self.key.public_key().public_bytes_raw())

    def signatures(self, tagmanifest: bytes) -> dict[str, dict[str, str]]:
        """The signature files over the tag manifest, by name (DESIGN.md: Formats)."""
        public = self.key.public_key().public_bytes_raw()
        files = {SIGNATURE_FILE: _signature(trust.ED25519, public, self.key.sign(tagmanifest))}
        if self.sm2_key is not None:
            sm2_public = sm2.public_of(self.sm2_key)
            signature = sm2.sign(self.sm2_key, tagmanifest)
            files[SM2_SIGNATURE_FILE] = {
                **_signature(trust.SM2, sm2_public, signature),
                "digest": "sm3",
                "user_id": sm2.DEFAULT_USER_ID,
            }
        return files


def _signature(algorithm: str, public_key: bytes, signature: bytes) -> dict[str, str]:
    return {
        "algorithm": algorithm,
        "signed_file": SIGNED_FILE,
        "key_id": trust.package_key_id(public_key),
        "public_key": public_key.hex(),
        "signature": base64.b64encode(signature).decode(),
    }


def write(
    contents: PackageContents,
    out: IO[bytes],
    seal: Callable[[], Signing],
    progress: Callable[[int], None] | None = None,
) -> Signing:
    """Write the signed, zipped bag of `contents` to `out`. `seal` chooses the key and the signing
    time once the files are in, just before the tag manifest is signed; returns that choice."""
    bag = BagWriter(out, f"lianzheng-{contents.case_no}")
    for index, data in contents.events:
        bag.add_bytes(f"events/{index:012d}.json", data)
    for index, data in contents.intake:
        bag.add_bytes(f"intake/{index:012d}.json", data)
    bag.add_bytes(
        "proofs.json",
        _json(
            {
                "size": contents.size,
                "root": contents.root.hex(),
                "proofs": {str(i): [h.hex() for h in p] for i, p in contents.proofs.items()},
            }
        ),
    )
    bag.add_bytes("checkpoint.txt", contents.checkpoint.encode())
    bag.add_bytes("log-key.json", _json(contents.log_key))
    bag.add_bytes("trust-root.json", _json(contents.trust_root))
    bag.add_bytes("anchor.json", _json(contents.anchor))
    if contents.timestamp is not None:
        token, stamped_note = contents.timestamp
        bag.add_bytes("checkpoint-timestamp.tsr", token)
        bag.add_bytes("checkpoint-stamped.txt", stamped_note.encode())
    bag.add_bytes("custody.json", _json(contents.custody))
    for item in contents.evidence:
        record = item.record
        bag.add_bytes(f"evidence/{record['evidence_id']}.json", _json(record))
        name = f"evidence/{record['evidence_id']}.{EXTENSIONS.get(record['media_type'], 'bin')}"
        bag.add_stream(name, item.chunks(), progress)
    bag.add_bytes("report.html", report_html(contents).encode())
    from evidence import report_pdf  # reportlab loads in a quarter second; only packages need it

    bag.add_bytes("report.pdf", report_pdf.render(contents))
    signing = seal()
    tagmanifest = bag.close(
        {
            "Source-Organization": "Lianzheng evidence ledger",
            "External-Identifier": contents.case_no,
            "Bagging-Date": contents.exported_at[:10],
            "Lianzheng-Format": PACKAGE_FORMAT,
            "Lianzheng-Log-Origin": contents.log_key["origin"],
            "Lianzheng-Checkpoint-Size": str(contents.size),
            "Lianzheng-Trust-Root": trust.fingerprint(contents.trust_root),
            "Lianzheng-Signed-At": format_time(signing.signed_at),
        }
    )
    for name, signature in signing.signatures(tagmanifest).items():
        bag.add_root_file(name, _json(signature))
    bag.finish()
    return signing


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True).encode()


def report_html(contents: PackageContents) -> str:
    """The package's own report: what it holds and what it proves, in Chinese and English."""
    e = html.escape
    events = "".join(
        f"<tr><td>{i}</td><td>{e(str(ev.get('seq')))}</td><td>{e(ev.get('type', ''))}</td>"
        f"<td>{e(ev.get('time', ''))}</td><td>{e(ev.get('actor', ''))}</td></tr>"
        for i, ev in ((i, json.loads(d)) for i, d in contents.events)
    )
    items = "".join(
        f"<tr><td>{e(f.record['evidence_id'])}</td><td>{e(f.record['media_type'])}</td>"
        f"<td><code>{e(f.record['sha256'])}</code></td><td>{f.record['size']:,}</td>"
        f"<td>{e(f.record['captured_at'])}</td>"
        f"<td>{'是 yes' if f.record.get('late') else '否 no'}</td>"
        f"<td>{e(f.record.get('derived_from') or '')}</td></tr>"
        for f in contents.evidence
    )
    anchor = contents.anchor
    chain, contract = e(str(anchor.get("chain_id"))), e(str(anchor.get("contract")))
    block, origin = e(str(anchor.get("block_number"))), e(contents.log_key["origin"])
    root = contents.root.hex()
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>证据包 Evidence package {e(contents.case_no)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
td,th{{border:1px solid #ccc;padding:.3em}}
table{{border-collapse:collapse}}code{{font-size:.85em;word-break:break-all}}</style></head><body>
<h1>证据包 Evidence package — {e(contents.case_no)}</h1>
<p>导出时间 Exported: {e(contents.exported_at)} · 导出人 By: {e(contents.exported_by)}</p>
<p>信任根 Trust root: {e(str(contents.trust_root.get("agency")))} · 指纹 fingerprint
<code>{trust.fingerprint(contents.trust_root)}</code>（请与机关书面提供的指纹核对
compare it with the fingerprint the agency gave you on paper）</p>
<h2>本证据包证明什么 What this package proves</h2>
<p>包内每个事件与文件自记录时起未被篡改，并于区块链上锚定（上链后未被篡改）：日志 {origin}
在大小 {contents.size} 处的树根 <code>{root}</code> 锚定于链 {chain}
合约 <code>{contract}</code> 的区块 {block}。
本包不能证明记录之前内容的真实性。</p>
<p>Every event and file in this package is unchanged since it was recorded, and the log's root
<code>{root}</code> at size {contents.size} was anchored on chain {chain},
contract <code>{contract}</code>, block {block} (tamper-evident after anchoring).
It does not prove that the content was authentic before it was recorded.</p>
<h2>案件事件 Case events</h2><table>
<tr><th>leaf</th><th>seq</th><th>type</th><th>time</th><th>actor</th></tr>
{events}</table>
<h2>证据 Evidence</h2><table>
<tr><th>id</th><th>type</th><th>SHA-256</th><th>bytes</th><th>captured</th>
<th>迟延 late</th><th>derived from</th></tr>{items}</table>
<h2>如何自行核验 How to check it yourself</h2>
<p>先确认信任根 First add the agency's trust root, checking its fingerprint against the paper copy:
<code>lianzheng trust add trust-root.json --fingerprint …</code>; then run
<code>lianzheng verify package.zip --rpc URL</code>. Or with standard tools:
<code>sha256sum -c manifest-sha256.txt</code> in the bag folder,
<code>openssl pkeyutl -verify</code> for signature.json with the package key
<em>of the trust root</em> (never the one inside the package), and where the root lists SM2 keys
(国密) for signature-sm2.json too, with <code>-rawin -digest sm3 -pkeyopt
distid:1234567812345678</code>; and any Ethereum JSON-RPC client
calling <code>rootAt({contents.size})</code> on the trust root's contract.</p>
</body></html>
"""
