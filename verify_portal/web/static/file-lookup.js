// The court page's single-file check: the file is hashed here, in the browser, as a stream (so
// multi-GiB files work and nothing leaves the machine), and only its SHA-256 is looked up.
import { sha256 } from "./vendor/noble-hashes/sha2.js";

export async function hashStream(stream, onProgress = () => {}) {
  const hasher = sha256.create();
  const reader = stream.getReader();
  let done = 0;
  for (;;) {
    const { value, done: finished } = await reader.read();
    if (finished) break;
    hasher.update(value);
    done += value.length;
    onProgress(done);
  }
  return Array.from(hasher.digest(), (b) => b.toString(16).padStart(2, "0")).join("");
}

if (typeof document !== "undefined") {
  const input = document.getElementById("single-file");
  const status = document.getElementById("single-status");
  const results = document.getElementById("single-results");
  if (input && status && results) {
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (!file) return;
      results.replaceChildren();
      const digest = await hashStream(file.stream(), (n) => {
        status.textContent = `${status.dataset.hashing} ${Math.floor((100 * n) / Math.max(file.size, 1))}%`;
      });
      status.textContent = `SHA-256 ${digest}`;
      const answer = await fetch(`/api/v1/evidence/lookup?sha256=${digest}`);
      const found = (await answer.json()).registrations || [];
      if (found.length === 0) {
        results.append(Object.assign(document.createElement("li"), { textContent: status.dataset.none }));
      }
      for (const r of found) {
        const anchored = r.anchor ? `${status.dataset.anchored} ${r.anchor.block_number} (chain ${r.anchor.chain_id})`
          : status.dataset.notAnchored;
        const device = r.device ? ` · ${r.device}${r.device_signed ? " ✓" : ""}` : "";
        results.append(Object.assign(document.createElement("li"), {
          textContent: `${r.case_no} · ${r.registered_at}${device} · ${anchored}`,
        }));
      }
    });
  }
}
