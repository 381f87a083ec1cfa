#!/usr/bin/env node
// solc stand-in for forge: there is no native solc on this machine (docs/TOOLCHAIN), only solcjs
// (npm `solc`, WebAssembly). forge runs `solc --version` to learn the version, then
// `solc [--base-path P] [--include-path P]... [--allow-paths ...] --standard-json` with the standard
// JSON input on stdin. We answer the first ourselves and hand the second to solcjs, with an import
// callback that resolves files forge did not inline (base path, include paths, then remappings).
import { createRequire } from "node:module";
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const EXPECTED = "0.8.30+commit.73712a01";

const args = process.argv.slice(2);
if (args.includes("--version") || args.includes("-v")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${EXPECTED}\n`);
  process.exit(0);
}

let basePath = process.cwd();
const includePaths = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const take = () => args[++i];
  if (a === "--base-path") basePath = path.resolve(take());
  else if (a.startsWith("--base-path=")) basePath = path.resolve(a.slice(12));
  else if (a === "--include-path") includePaths.push(path.resolve(take()));
  else if (a.startsWith("--include-path=")) includePaths.push(path.resolve(a.slice(15)));
  else if (a === "--allow-paths") take();
}

const solc = require(path.join(here, "..", "node_modules", "solc"));
if (!solc.version().startsWith(EXPECTED)) {
  process.stderr.write(`solc_wrapper: solcjs is ${solc.version()}, expected ${EXPECTED}\n`);
  process.exit(1);
}

const inputText = readFileSync(0, "utf8");
const input = JSON.parse(inputText);
const remappings = (input.settings && input.settings.remappings) || [];

function candidates(p) {
  const out = [];
  for (const r of remappings) {
    // context:prefix=target; we ignore contexts (none are used here).
    const eq = r.indexOf("=");
    if (eq < 0) continue;
    let prefix = r.slice(0, eq);
    const colon = prefix.indexOf(":");
    if (colon >= 0) prefix = prefix.slice(colon + 1);
    if (p.startsWith(prefix)) out.push(r.slice(eq + 1) + p.slice(prefix.length));
  }
  out.push(p);
  const resolved = [];
  for (const c of out) {
    if (path.isAbsolute(c)) resolved.push(c);
    else for (const root of [basePath, ...includePaths]) resolved.push(path.join(root, c));
  }
  return resolved;
}

function findImports(p) {
  for (const c of candidates(p)) {
    if (existsSync(c)) return { contents: readFileSync(c, "utf8") };
  }
  return { error: `File not found: ${p}` };
}

const output = solc.compile(JSON.stringify(input), { import: findImports });
process.stdout.write(output);
