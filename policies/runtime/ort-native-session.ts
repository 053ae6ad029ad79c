/**
 * A synchronous onnxruntime session for batch-1 control loops.
 *
 * onnxruntime-node's public `InferenceSession.run()` does its work
 * synchronously in native code but wraps it in `setImmediate` + a Promise.
 * For a control loop that is pure cost: every step waits for an event-loop
 * turn, which serial-port and timer callbacks can delay (jitter), and the
 * caller must be async. So this module uses the native binding the package
 * itself wraps (`onnxruntime-node/dist/binding.js`, the same object its
 * backend calls), which runs synchronously and writes into pre-allocated
 * output tensors. That file is not a documented API: it is checked on first
 * use, and anything unexpected is a clear error naming the installed version.
 */

import { createRequire } from "node:module";
import { Tensor, env } from "onnxruntime-node";

export type OrtFeeds = Record<string, Tensor>;
export type OrtFetches = Record<string, Tensor | null>;

export interface NativeValueMetadata {
  name: string;
  isTensor: boolean;
  symbolicDimensions: string[];
  shape: number[];
  type: number;
}

export interface NativeSession {
  readonly inputMetadata: NativeValueMetadata[];
  readonly outputMetadata: NativeValueMetadata[];
  run(feeds: OrtFeeds, fetches: OrtFetches, options: object): Record<string, unknown>;
  dispose(): void;
}

interface NativeBindingModule {
  binding: {
    InferenceSession: new () => NativeSession & {
      loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
    };
  };
  initOrt(): void;
}

export interface SessionTuning {
  /** Threads inside one op; 1 is fastest for small batch-1 networks (no thread hand-off). Default 1. */
  intraOpThreads?: number;
  /** Default "all" (constant folding, Gemm/activation fusion). */
  graphOptimization?: "disabled" | "basic" | "extended" | "all";
}

let cached: NativeBindingModule | undefined;

function nativeBinding(): NativeBindingModule {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const version = env.versions?.node ?? "unknown";
  let mod: Partial<NativeBindingModule>;
  try {
    mod = require("onnxruntime-node/dist/binding.js") as Partial<NativeBindingModule>;
  } catch (e) {
    throw new Error(`onnxruntime-node ${version}: cannot load its native binding (dist/binding.js): ${(e as Error).message}`);
  }
  if (typeof mod.initOrt !== "function" || typeof mod.binding?.InferenceSession !== "function") {
    throw new Error(
      `onnxruntime-node ${version}: dist/binding.js no longer exposes { binding.InferenceSession, initOrt }; ` +
        `s2r's synchronous policy runtime was written against onnxruntime-node 1.30 and needs updating`,
    );
  }
  mod.initOrt();
  cached = mod as NativeBindingModule;
  return cached;
}

/**
 * Strips onnxruntime's source location and C++ signature from an error
 * ("/onnxruntime_src/...:46 void onnxruntime::f(args...) Actual text").
 */
export function cleanOrtMessage(message: string): string {
  // Graph check failures: 'This is an invalid model. In Node, ("name", Op, "domain", -1) : (inputs) -> (outputs) , Error text'.
  const node = /In Node, \("([^"]*)", ([\w.]+), "([^"]*)", -?\d+\).*?, Error (.*)$/s.exec(message);
  if (node) return `invalid graph: node ${node[1] ? `"${node[1]}" ` : ""}(${node[3] ? node[3] + "." : ""}${node[2]}): ${node[4]!.trim()}`;
  const m = /^\S*onnxruntime\S*:\d+\s/.exec(message);
  if (!m) return message.trim();
  const open = message.indexOf("(", m[0].length);
  if (open < 0) return message.slice(m[0].length).trim();
  let depth = 0;
  for (let i = open; i < message.length; i++) {
    if (message[i] === "(") depth++;
    else if (message[i] === ")" && --depth === 0) return message.slice(i + 1).trim();
  }
  return message.slice(m[0].length).trim();
}

/** Creates a CPU session from model bytes; onnxruntime's errors are reworded and name `file`. */
export function createNativeSession(bytes: Uint8Array, file: string, tuning: SessionTuning = {}): NativeSession {
  const { binding } = nativeBinding();
  const session = new binding.InferenceSession();
  const options = {
    executionProviders: ["cpu"],
    intraOpNumThreads: tuning.intraOpThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: tuning.graphOptimization ?? "all",
    // Arena and memory patterns let repeated same-shape runs reuse buffers instead of allocating.
    enableCpuMemArena: true,
    enableMemPattern: true,
  };
  try {
    session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, options);
  } catch (e) {
    throw new Error(`${file}: onnxruntime cannot load the model: ${cleanOrtMessage((e as Error).message)}`);
  }
  return session;
}

export { Tensor };
