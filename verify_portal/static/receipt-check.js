// Checks receipts in the citizen's own browser, so that they need not take our server's word:
// SHA-256(0x00 || event) must be the leaf hash, and the RFC 9162 §2.1.3.2 inclusion proof must lead
// from it to the root anchored on chain. WebCrypto only; no dependencies.

const enc = new TextEncoder();

function hexToBytes(hex) {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error("not lowercase hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(prefix, ...parts) {
  const length = 1 + parts.reduce((n, p) => n + p.length, 0);
  const data = new Uint8Array(length);
  data[0] = prefix;
  let at = 1;
  for (const p of parts) { data.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
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
      r = await sha256(1, p, r); // a right child, or the last node of its level
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; } // levels where it is promoted unhashed
    } else {
      r = await sha256(1, r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null; // shorter than the path otherwise
}

// A receipt (format lianzheng-receipt/1) holds: it names the check that failed otherwise.
export async function checkReceipt(receipt) {
  const leaf = await sha256(0, enc.encode(receipt.event));
  if (bytesToHex(leaf) !== receipt.leaf_hash) return { ok: false, check: "event hashes to the leaf" };
  const inc = receipt.inclusion;
  if (inc.size !== receipt.anchor.size || inc.root !== receipt.anchor.root) {
    return { ok: false, check: "proof is to the anchored tree head" };
  }
  const root = await rootFromInclusion(receipt.leaf_index, inc.size, leaf, inc.proof.map(hexToBytes));
  if (root === null || bytesToHex(root) !== receipt.anchor.root) {
    return { ok: false, check: "inclusion proof leads to the anchored root" };
  }
  return { ok: true, check: "inclusion proof leads to the anchored root" };
}

// On the case page: each receipt's status cell says what the browser found.
if (typeof document !== "undefined") {
  const data = document.getElementById("receipts");
  if (data) {
    const receipts = JSON.parse(data.textContent);
    for (const receipt of receipts) {
      const cell = document.querySelector(`[data-browser-check="${receipt.leaf_index}"]`);
      checkReceipt(receipt).then((result) => {
        if (!cell) return;
        cell.textContent = result.ok ? cell.dataset.ok : `${cell.dataset.fail} (${result.check})`;
        cell.className = result.ok ? "pass" : "fail";
      });
    }
  }
}
