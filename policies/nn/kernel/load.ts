import { existsSync, readFileSync } from "node:fs";
import { projectPath } from "../../../common/paths.js";
import { Arena, arenaCapacityBytes, type ArenaOptions } from "../arena.js";
import { jsMatrixOps } from "./js-kernel.js";
import type { MatrixOps } from "./matrix-ops.js";
import { WASM_RESERVED_BYTES, instantiateWasmOps, missingExport } from "./wasm-kernel.js";

/**
 * Choosing the float32 matrix kernel: the WebAssembly SIMD one built by
 * scripts/build-wasm.mjs when it is present and loads, else the TypeScript
 * fallback. `S2R_NN_KERNEL` = auto (default) | wasm | js overrides the choice;
 * "wasm" makes a missing or unloadable kernel an error instead of a fallback.
 */

export type KernelChoice = "auto" | "wasm" | "js";

export interface Kernel {
  readonly kind: "wasm" | "js";
  /** Why this kernel is in use, e.g. why the WebAssembly one was not. */
  readonly reason: string;
  /** A float32 arena whose matrix ops run on this kernel. */
  createArena(opts?: ArenaOptions): Arena<Float32Array>;
}

export const KERNEL_ENV = "S2R_NN_KERNEL";

export function wasmKernelPath(): string {
  return projectPath("build", "nn-kernel.wasm");
}

let compiled: WasmCompileResult | undefined;
const kernels = new Map<"wasm" | "js", Kernel>();

export type WasmCompileResult = { module: WebAssembly.Module } | { error: string };

/** Compiles a kernel file, or says why it cannot be used. Exported for tests; getKernel caches the default file's result. */
export function compileWasmKernel(file: string): WasmCompileResult {
  if (!existsSync(file)) return { error: `${file} not found (build it with: node scripts/build-wasm.mjs)` };
  try {
    // Synchronous compilation is allowed in Node for any size; the module is a few KiB.
    const module = new WebAssembly.Module(readFileSync(file));
    const missing = missingExport(module);
    if (missing) return { error: `${file} lacks the export "${missing}" (rebuild it with: node scripts/build-wasm.mjs)` };
    return { module };
  } catch (e) {
    return { error: `${file} does not load (is WebAssembly SIMD supported here?): ${(e as Error).message}` };
  }
}

function compileWasm(): WasmCompileResult {
  return (compiled ??= compileWasmKernel(wasmKernelPath()));
}

function parseChoice(value: string, from: string): KernelChoice {
  if (value === "auto" || value === "wasm" || value === "js") return value;
  throw new Error(`${from}: expected auto, wasm or js, got "${value}"`);
}

/**
 * The float32 kernel (cached). `choice` defaults to $S2R_NN_KERNEL, then auto.
 */
export function getKernel(choice?: KernelChoice): Kernel {
  const env = process.env[KERNEL_ENV];
  const want = choice !== undefined ? parseChoice(choice, "getKernel") : env ? parseChoice(env, KERNEL_ENV) : "auto";
  const source = choice !== undefined ? "requested" : env ? `${KERNEL_ENV}=${env}` : "auto";
  if (want === "js") return jsKernel(`TypeScript kernel ${source}`);
  const wasm = compileWasm();
  if ("error" in wasm) {
    if (want === "wasm") throw new Error(`WebAssembly kernel ${source} but unavailable: ${wasm.error}`);
    return jsKernel(`TypeScript fallback: ${wasm.error}`);
  }
  let k = kernels.get("wasm");
  if (!k) {
    const module = wasm.module;
    k = {
      kind: "wasm",
      reason: `WebAssembly SIMD kernel (${source})`,
      createArena(opts) {
        const bytes = arenaCapacityBytes(opts, 4095);
        const pages = bytes / 65536;
        // maximum = initial: the memory never grows, so views into it stay valid.
        const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
        return new Arena<Float32Array>({
          kernel: "wasm",
          buffer: memory.buffer,
          bytesPerElement: 4,
          view: (b, o, n) => new Float32Array(b, o, n),
          ops: instantiateWasmOps(module, memory),
          reservedBytes: WASM_RESERVED_BYTES,
        });
      },
    };
    kernels.set("wasm", k);
  }
  return k;
}

function jsKernel(reason: string): Kernel {
  return {
    kind: "js",
    reason,
    createArena(opts) {
      return new Arena<Float32Array>({
        kernel: "js",
        buffer: new ArrayBuffer(arenaCapacityBytes(opts, 8192)),
        bytesPerElement: 4,
        view: (b, o, n) => new Float32Array(b, o, n),
        ops: jsMatrixOps as MatrixOps<Float32Array>,
      });
    },
  };
}

/** Async form of getKernel, for callers that prefer to await setup. */
export async function loadKernel(choice?: KernelChoice): Promise<Kernel> {
  return getKernel(choice);
}

/** A float32 arena on the chosen kernel (shorthand for getKernel(choice).createArena(opts)). */
export function createArena(opts?: ArenaOptions & { kernel?: KernelChoice | Kernel }): Arena<Float32Array> {
  const k = opts?.kernel;
  const kernel = k === undefined || typeof k === "string" ? getKernel(k) : k;
  return kernel.createArena(opts);
}
