// Compiles the Solidity sources of contracts/ with the pinned solcjs and writes, per contract,
// build/<Name>.json (ABI, bytecode, compiler and settings). DESIGN.md, Chain: the artifacts are
// committed, and `--check` (run by the test suite) fails when they differ from a fresh compile.
//
//   node contracts/compile.mjs            write the artifacts
//   node contracts/compile.mjs --check    compare with the committed artifacts; exit 1 on drift
//   node contracts/compile.mjs --out DIR FILE.sol...   compile other sources (benchmark baselines)
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const PINNED = "0.8.37";
// Paris (no PUSH0 or MCOPY) so the bytecode also runs on consortium EVM chains that lag mainnet forks.
const SETTINGS = {
  optimizer: { enabled: true, runs: 1000 },
  evmVersion: "paris",
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};
const here = dirname(fileURLToPath(import.meta.url));

function fail(message) {
  console.error(`compile: ${message}`);
  process.exit(1);
}

function compile(paths) {
  const version = solc.version().split("+")[0];
  if (version !== PINNED) fail(`solc ${version} is installed, ${PINNED} is pinned; run npm ci`);
  const sources = Object.fromEntries(paths.map((p) => [basename(p), { content: readFileSync(p, "utf8") }]));
  const output = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources, settings: SETTINGS })));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  if (errors.length) fail(errors.map((e) => e.formattedMessage).join("\n"));
  const artifacts = {};
  for (const [file, contracts] of Object.entries(output.contracts)) {
    const sourceSha256 = createHash("sha256").update(sources[file].content).digest("hex");
    for (const [name, c] of Object.entries(contracts)) {
      artifacts[name] = JSON.stringify(
        {
          contractName: name,
          source: file,
          sourceSha256,
          compiler: `solc ${PINNED}`,
          settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
          abi: c.abi,
          bytecode: "0x" + c.evm.bytecode.object,
          deployedBytecode: "0x" + c.evm.deployedBytecode.object,
        },
        null,
        2,
      ) + "\n";
    }
  }
  return artifacts;
}

const args = process.argv.slice(2);
if (args[0] === "--out") {
  const [, out, ...files] = args;
  mkdirSync(out, { recursive: true });
  for (const [name, text] of Object.entries(compile(files))) writeFileSync(join(out, `${name}.json`), text);
} else {
  const build = join(here, "build");
  const artifacts = compile([join(here, "EvidenceAnchor.sol")]);
  if (args[0] === "--check") {
    const drifted = Object.entries(artifacts).filter(([name, text]) => {
      const path = join(build, `${name}.json`);
      return !existsSync(path) || readFileSync(path, "utf8") !== text;
    });
    if (drifted.length) fail(`artifacts differ from the source: ${drifted.map(([n]) => n).join(", ")}; run node contracts/compile.mjs`);
    console.log(`compile: ${Object.keys(artifacts).length} artifact(s) match the source`);
  } else {
    mkdirSync(build, { recursive: true });
    for (const [name, text] of Object.entries(artifacts)) writeFileSync(join(build, `${name}.json`), text);
    console.log(`compile: wrote ${Object.keys(artifacts).join(", ")} to ${build}`);
  }
}
