#!/usr/bin/env node
/**
 * Assembles the WebAssembly SIMD matrix kernel of the training core
 * (policies/nn/kernel/nn-kernel.wat) into build/nn-kernel.wasm with the `wabt`
 * package. The TypeScript side (policies/nn/kernel/load.ts) finds the file there
 * and falls back to its plain TypeScript kernel when it is missing.
 *
 * Usage: node scripts/build-wasm.mjs [--out <file>]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "policies", "nn", "kernel", "nn-kernel.wat");
const outIndex = process.argv.indexOf("--out");
const out = outIndex > 0 ? process.argv[outIndex + 1] : join(root, "build", "nn-kernel.wasm");
if (!out) {
  console.error("build-wasm: --out needs a file name");
  process.exit(2);
}

const wabt = await (await import("wabt")).default();
let module;
try {
  module = wabt.parseWat(relative(root, source), readFileSync(source, "utf8"), { simd: true });
  module.resolveNames();
  module.validate();
} catch (e) {
  console.error(`build-wasm: ${relative(root, source)} does not assemble:\n${e.message}`);
  process.exit(1);
}
const { buffer } = module.toBinary({ canonicalize_lebs: true });
module.destroy();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, buffer);
const shown = relative(root, out);
console.log(`build-wasm: wrote ${shown.startsWith("..") ? out : shown} (${buffer.length} bytes)`);
