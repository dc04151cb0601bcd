// Checks receipts in the citizen's own browser (DESIGN.md: What VERIFIED means), so that the
// citizen need not take the server's word for what the browser itself can check:
//   1. the event hashes to the leaf: SHA-256(0x00 || event);
//   2. the checkpoint is signed (Ed25519, C2SP signed-note) by a checkpoint key of the trust root,
//      valid for its size; the root's fingerprint is computed here, for comparing with the notice;
//      WebCrypto has no SM2, so where the root also lists an SM2 key (国密) that line is said to be
//      unchecked here (`sm2: "not-checked"`), never passed;
//   3. at least the root's witness quorum cosigned it (C2SP tlog-cosignature/v1, Ed25519);
//   4. the RFC 9162 §2.1.3.2 inclusion proof leads from the leaf to the checkpoint's root;
//   5. with a public chain RPC: the root's contract holds that root at that size (eth_call rootAt),
//      on the root's chain, in a final block.
// What the browser did not check is said so, never shown as checked. WebCrypto only; no dependencies.

const enc = new TextEncoder();
const ROOT_AT = "0xeaa38b41"; // the selector of EvidenceAnchor.rootAt(uint64)

function hexToBytes(hex) {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error("not lowercase hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64ToBytes(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

// RFC 9162 §2.1.3.2: the root that `proof` leads to from leaf `index` of a tree of `size` leaves,
// or null when the proof has the wrong length. BigInt: indexes may exceed 2^53.
export async function rootFromInclusion(index, size, leaf, proof) {
  if (leaf.length !== 32 || proof.some((p) => p.length !== 32)) return null; // SHA-256 hashes only
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  if (fn > sn) return null;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) return null; // longer than the path
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(Uint8Array.of(1), p, r); // a right child, or the last node of its level
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; } // levels where it is promoted unhashed
    } else {
      r = await sha256(Uint8Array.of(1), r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null; // shorter than the path otherwise
}

// RFC 8785 (JCS): ECMAScript's own JSON.stringify for strings and numbers, object members sorted by
// their UTF-16 code units, which is what Array.prototype.sort compares.
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

// The trust root's fingerprint: SHA-256 of its RFC 8785 bytes without `signatures`, lowercase hex.
export async function fingerprint(root) {
  const unsigned = Object.fromEntries(Object.entries(root).filter(([k]) => k !== "signatures"));
  return bytesToHex(await sha256(enc.encode(canonicalJson(unsigned))));
}

// A C2SP checkpoint note: body lines, then a blank line, then "— name base64(keyid || sig)" lines.
function parseNote(note) {
  const split = note.lastIndexOf("\n\n");
  if (split < 0) return null;
  const body = note.slice(0, split + 1);
  const lines = body.slice(0, -1).split("\n");
  if (lines.length !== 3 || !/^(0|[1-9][0-9]*)$/.test(lines[1])) return null;
  const signatures = note.slice(split + 2).split("\n").filter((l) => l).map((line) => {
    const parts = line.split(" ");
    return parts.length === 3 && parts[0] === "\u2014" ? { name: parts[1], blob: base64ToBytes(parts[2]) } : null;
  });
  if (signatures.includes(null)) return null;
  return { body, origin: lines[0], size: BigInt(lines[1]), root: base64ToBytes(lines[2]), signatures };
}

function covers(key, size) {
  const from = BigInt(key.valid_from_size);
  return from <= size && (key.valid_until_size === undefined || size < BigInt(key.valid_until_size));
}

// The checkpoint if a key of `root` valid for its size signed it; else why not.
async function verifyCheckpoint(note, root) {
  const parsed = parseNote(note);
  if (parsed === null) return { code: "malformed", error: "the checkpoint is malformed" };
  if (parsed.origin !== root.log_origin) return { code: "other-log", error: "the checkpoint is of another log" };
  const sm2 = root.checkpoint_keys.some((k) => k.algorithm === "sm2" && covers(k, parsed.size));
  for (const key of root.checkpoint_keys.filter((k) => k.algorithm === "ed25519")) {
    const raw = hexToBytes(key.public_key);
    const id = (await sha256(enc.encode(`${root.log_origin}\n`), Uint8Array.of(1), raw)).slice(0, 4);
    const line = parsed.signatures.find((s) => s.name === root.log_origin && s.blob.length === 68
      && s.blob.slice(0, 4).every((b, i) => b === id[i]));
    if (!line) continue;
    const publicKey = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    const good = await crypto.subtle.verify({ name: "Ed25519" }, publicKey, line.blob.slice(4),
      enc.encode(parsed.body));
    if (!good) return { code: "bad-signature", error: "the checkpoint signature does not verify" };
    if (!covers(key, parsed.size)) return { code: "key-period", error: "the checkpoint key is not valid for this size" };
    return { checkpoint: parsed, keyId: key.key_id, sm2: sm2 ? "not-checked" : "none" };
  }
  return { code: "unknown-key", error: "the checkpoint is not signed by a key of the trust root" };
}

// Which of the root's witnesses cosigned the checkpoint (tlog-cosignature/v1: key id
// SHA-256(name || "\n" || 0x04 || key)[:4], then a big-endian u64 time, then the signature over
// "cosignature/v1\ntime <t>\n" and the body). A witness's line that fails to verify fails all.
async function verifyWitnesses(parsed, root) {
  const cosigned = [];
  for (const witness of root.witnesses || []) {
    const raw = hexToBytes(witness.public_key);
    const id = (await sha256(enc.encode(`${witness.name}\n`), Uint8Array.of(4), raw)).slice(0, 4);
    const line = parsed.signatures.find((s) => s.name === witness.name && s.blob.length === 76
      && s.blob.slice(0, 4).every((b, i) => b === id[i]));
    if (!line) continue;
    const time = new DataView(line.blob.buffer, line.blob.byteOffset + 4, 8).getBigUint64(0);
    const publicKey = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    const message = enc.encode(`cosignature/v1\ntime ${time}\n${parsed.body}`);
    if (!await crypto.subtle.verify({ name: "Ed25519" }, publicKey, line.blob.slice(12), message)) {
      return { code: "witness-signature", error: `the cosignature of ${witness.name} does not verify` };
    }
    cosigned.push({ name: witness.name, time: new Date(Number(time) * 1000).toISOString() });
  }
  const quorum = root.witness_quorum || 0;
  if (cosigned.length < quorum) {
    return { code: "witness-quorum", error: `${cosigned.length} of the ${quorum} cosignatures the trust root requires` };
  }
  return { cosigned, quorum };
}

async function rpc(url, method, params) {
  const answer = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await answer.json();
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

// Is (size, root) held by the root's contract on the root's chain, in a final block?
async function checkAnchor(rpcUrl, root, receipt, checkpoint) {
  const pin = root.chain;
  if (!pin) return { state: "not-checked", code: "no-chain", check: "the trust root names no chain" };
  if (BigInt(await rpc(rpcUrl, "eth_chainId", [])) !== BigInt(pin.chain_id)) {
    return { state: "incomplete", code: "other-chain", check: "the public RPC serves another chain" };
  }
  const call = ROOT_AT + checkpoint.size.toString(16).padStart(64, "0");
  const held = await rpc(rpcUrl, "eth_call", [{ to: pin.contract, data: call }, "latest"]);
  if (held !== `0x${bytesToHex(checkpoint.root)}`) {
    return { state: "fail", code: "root-missing", check: "the contract does not hold this checkpoint's root" };
  }
  const mined = await rpc(rpcUrl, "eth_getTransactionReceipt", [receipt.anchor.tx_hash]);
  if (!mined || mined.to?.toLowerCase() !== pin.contract.toLowerCase()) {
    return { state: "fail", code: "tx-missing", check: "the anchoring transaction is not on the chain" };
  }
  const block = BigInt(mined.blockNumber);
  const finalized = await rpc(rpcUrl, "eth_getBlockByNumber", ["finalized", false]);
  const latest = BigInt(await rpc(rpcUrl, "eth_blockNumber", []));
  const final = finalized ? block <= BigInt(finalized.number) : latest - block + 1n >= BigInt(pin.confirmations);
  return { state: final ? "pass" : "incomplete", block: Number(block),
    code: final ? "final" : "not-final",
    check: final ? "anchored on chain, final" : "anchored on chain, not final yet" };
}

// Every check of one receipt against `root`; `rpcUrl` (or null) is a chain RPC the browser may call.
// `ok` is true only when everything the browser checked passed; `anchor` says what it found on chain.
export async function checkReceipt(receipt, root, rpcUrl = null) {
  const leaf = await sha256(Uint8Array.of(0), enc.encode(receipt.event));
  if (bytesToHex(leaf) !== receipt.leaf_hash) return { ok: false, code: "event", check: "event hashes to the leaf" };
  const signed = await verifyCheckpoint(receipt.checkpoint, root);
  if (signed.error) return { ok: false, code: signed.code, check: signed.error };
  const { checkpoint } = signed;
  const witnessed = await verifyWitnesses(checkpoint, root);
  if (witnessed.error) return { ok: false, code: witnessed.code, check: witnessed.error };
  if (BigInt(receipt.inclusion.size) !== checkpoint.size) {
    return { ok: false, code: "proof-size", check: "the proof is not to the checkpoint's size" };
  }
  const computed = await rootFromInclusion(receipt.leaf_index, receipt.inclusion.size, leaf,
    receipt.inclusion.proof.map(hexToBytes));
  if (computed === null || bytesToHex(computed) !== bytesToHex(checkpoint.root)) {
    return { ok: false, code: "inclusion", check: "inclusion proof leads to the checkpoint's root" };
  }
  const done = witnessed.quorum ? "signed, witnessed and included" : "signed and included";
  const { sm2 } = signed;
  if (!rpcUrl) return { ok: true, check: done, witnessed, sm2, anchor: { state: "not-checked" } };
  let anchor;
  try {
    anchor = await checkAnchor(rpcUrl, root, receipt, checkpoint);
  } catch (error) {
    anchor = { state: "incomplete", code: "rpc-down", check: `the public RPC did not answer (${error.message})` };
  }
  if (anchor.state === "fail") return { ok: false, code: anchor.code, check: anchor.check, anchor };
  return { ok: true, check: done, witnessed, sm2, anchor };
}

function readJson(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

// On the case page: each step's cell says what the browser found; any failure raises the banner.
async function checkPage() {
  const receipts = readJson("receipts");
  const root = readJson("trust-root");
  if (!receipts || !root) return;
  const rpcUrl = readJson("public-rpc");
  const words = readJson("check-words") || {};
  const say = (result) => words[result.code] || result.check;
  const shown = document.getElementById("browser-fingerprint");
  if (shown) shown.textContent = await fingerprint(root);
  for (const receipt of receipts) {
    const cell = document.querySelector(`[data-browser-check="${receipt.leaf_index}"]`);
    const row = document.querySelector(`tr[data-leaf="${receipt.leaf_index}"]`);
    let result;
    try {
      result = await checkReceipt(receipt, root, rpcUrl);
    } catch (error) { // a malformed receipt or root, or a browser without Ed25519: never a pass
      result = { ok: false, code: "error", check: `the check could not run (${error.message})` };
    }
    if (!cell) continue;
    if (!result.ok) {
      cell.textContent = `${cell.dataset.fail} (${say(result)})`;
      cell.className = "fail";
      row?.classList.add("failed");
      // What the server said of this step is a claim the browser could not bear out: say so there,
      // on the status card built from the same records, and in the banner at the top.
      const said = row?.querySelector(".server-says");
      if (said) said.textContent += ` ${said.dataset.disputed}`;
      document.getElementById("status-disputed")?.removeAttribute("hidden");
      document.getElementById("check-failed")?.removeAttribute("hidden");
      continue;
    }
    const anchor = result.anchor.state === "pass" ? ` · ${cell.dataset.anchorOk} ${result.anchor.block}`
      : result.anchor.state === "not-checked" ? ` · ${cell.dataset.anchorUnchecked}`
        : ` · ${cell.dataset.anchorPending} (${say(result.anchor)})`;
    const names = (result.witnessed?.cosigned || []).map((w) => w.name).join(", ");
    const witnessed = names ? ` · ${cell.dataset.witnessed} ${names}` : "";
    const sm2 = result.sm2 === "not-checked" ? ` · ${cell.dataset.sm2Unchecked}` : "";
    cell.textContent = cell.dataset.ok + witnessed + sm2 + anchor;
    cell.className = "pass";
  }
}

if (typeof document !== "undefined") checkPage();
