/**
 * Runs an exported s2r policy (ONNX) one observation at a time on the CPU,
 * carrying its recurrent state between steps.
 *
 * A step allocates no tensors: the observation, state and output buffers are
 * created once and onnxruntime writes into them; the recurrent state is
 * double-buffered (h_in is read from one buffer while h_out is written to the
 * other, then they swap). The only per-step garbage is the small result
 * record the native binding returns.
 */

import { readFile } from "node:fs/promises";
import { readManifest, sha256Hex, verifyManifestAgainstModel, type Manifest } from "../manifest.js";
import { inspectOnnxFile } from "../onnx/inspect-model.js";
import { IO_NAMES } from "../onnx/policy-parts.js";
import { checkPolicyInterface, type PolicyInterface } from "./policy-interface.js";
import { Tensor, createNativeSession, type NativeSession, type OrtFeeds, type OrtFetches, type SessionTuning } from "./ort-native-session.js";

export interface PolicyOutput {
  /** Owned by the policy and overwritten by the next step: copy it to keep it. */
  action: Float32Array;
  /** The OSI estimate (normalized, see manifest.osi), when the model has one; same ownership as `action`. */
  osi?: Float32Array;
}

export type OnnxPolicyOptions = SessionTuning;

/** Two state buffers wrapped as [1, width] tensors; index `cur` holds the state to feed next. */
class StatePair {
  readonly bufs: [Float32Array, Float32Array];
  readonly tensors: [Tensor, Tensor];
  constructor(width: number) {
    this.bufs = [new Float32Array(width), new Float32Array(width)];
    this.tensors = [new Tensor("float32", this.bufs[0], [1, width]), new Tensor("float32", this.bufs[1], [1, width])];
  }
}

export class OnnxPolicy {
  readonly obsSize: number;
  readonly actionSize: number;
  readonly osiSize: number;
  readonly hSize: number;
  readonly cSize: number;

  private session: NativeSession | undefined;
  private readonly obsBuf: Float32Array;
  private readonly actionBuf: Float32Array;
  private readonly osiBuf: Float32Array | undefined;
  private readonly h: StatePair | undefined;
  private readonly c: StatePair | undefined;
  /** Feeds/fetches for the two state parities, built once. */
  private readonly feeds: [OrtFeeds, OrtFeeds];
  private readonly fetches: [OrtFetches, OrtFetches];
  /** Fetches into scratch tensors, for warm(): the real outputs and the state to feed next stay as they are. */
  private readonly warmFetches: OrtFetches;
  private readonly runOptions = {};
  private readonly output: PolicyOutput;
  private cur: 0 | 1 = 0;

  private constructor(
    readonly onnxPath: string,
    session: NativeSession,
    io: PolicyInterface,
    readonly manifest: Manifest | undefined,
  ) {
    this.session = session;
    this.obsSize = io.obsSize;
    this.actionSize = io.actSize;
    this.osiSize = io.osiSize;
    this.hSize = io.hSize;
    this.cSize = io.cSize;
    this.obsBuf = new Float32Array(io.obsSize);
    this.actionBuf = new Float32Array(io.actSize);
    const obsT = new Tensor("float32", this.obsBuf, [1, io.obsSize]);
    const actionT = new Tensor("float32", this.actionBuf, [1, io.actSize]);
    let osiT: Tensor | undefined;
    if (io.osiSize > 0) {
      this.osiBuf = new Float32Array(io.osiSize);
      osiT = new Tensor("float32", this.osiBuf, [1, io.osiSize]);
    }
    if (io.hSize > 0) this.h = new StatePair(io.hSize);
    if (io.cSize > 0) this.c = new StatePair(io.cSize);
    const build = (k: 0 | 1): [OrtFeeds, OrtFetches] => {
      const feeds: OrtFeeds = { [IO_NAMES.obs]: obsT };
      const fetches: OrtFetches = { [IO_NAMES.action]: actionT };
      if (osiT) fetches[IO_NAMES.osi] = osiT;
      if (this.h) {
        feeds[IO_NAMES.hIn] = this.h.tensors[k];
        fetches[IO_NAMES.hOut] = this.h.tensors[1 - k]!;
      }
      if (this.c) {
        feeds[IO_NAMES.cIn] = this.c.tensors[k];
        fetches[IO_NAMES.cOut] = this.c.tensors[1 - k]!;
      }
      return [feeds, fetches];
    };
    const [f0, g0] = build(0);
    const [f1, g1] = build(1);
    this.feeds = [f0, f1];
    this.fetches = [g0, g1];
    this.warmFetches = {};
    for (const [name, t] of Object.entries(g0)) {
      const width = t!.dims[1]!;
      this.warmFetches[name] = new Tensor("float32", new Float32Array(width), [1, width]);
    }
    this.output = this.osiBuf ? { action: this.actionBuf, osi: this.osiBuf } : { action: this.actionBuf };
  }

  /**
   * Loads a policy; with `manifestPath`, also reads policy.json and refuses a
   * model whose SHA-256 or interface differs from it. Every failure names the
   * file and the problem.
   */
  static async load(onnxPath: string, manifestPath?: string, options: OnnxPolicyOptions = {}): Promise<OnnxPolicy> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(onnxPath);
    } catch (e) {
      throw new Error(`${onnxPath}: cannot read the ONNX file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const model = inspectOnnxFile(bytes, onnxPath);
    const io = checkPolicyInterface(model, onnxPath);
    let manifest: Manifest | undefined;
    if (manifestPath !== undefined) {
      manifest = readManifest(manifestPath);
      verifyManifestAgainstModel(manifest, model, sha256Hex(bytes), onnxPath);
    }
    const session = createNativeSession(bytes, onnxPath, options);
    const policy = new OnnxPolicy(onnxPath, session, io, manifest);
    try {
      policy.checkOutputsWrittenInPlace();
    } catch (e) {
      policy.dispose();
      throw e;
    }
    return policy;
  }

  /**
   * One warm-up step that also proves onnxruntime writes into the
   * pre-allocated output buffers (step() relies on it), then a reset.
   */
  private checkOutputsWrittenInPlace(): void {
    this.actionBuf.fill(NaN);
    this.step(this.obsBuf);
    if (this.actionBuf.some((v) => Number.isNaN(v))) {
      throw new Error(`${this.onnxPath}: onnxruntime did not write the action into the pre-allocated buffer (binding behaviour changed?)`);
    }
    this.reset();
  }

  /** Runs one step (batch 1). The returned arrays are reused by the next step. */
  step(obs: Float32Array): PolicyOutput {
    const session = this.session;
    if (!session) throw new Error(`${this.onnxPath}: step() after dispose()`);
    if (obs.length !== this.obsSize) throw new RangeError(`${this.onnxPath}: observation has ${obs.length} values, the policy takes ${this.obsSize}`);
    if (obs !== this.obsBuf) this.obsBuf.set(obs);
    try {
      session.run(this.feeds[this.cur], this.fetches[this.cur], this.runOptions);
    } catch (e) {
      throw new Error(`${this.onnxPath}: onnxruntime failed to run the policy: ${(e as Error).message}`);
    }
    if (this.h) this.cur = this.cur === 0 ? 1 : 0;
    return this.output;
  }

  /**
   * Runs the graph on the last observation and the current state into scratch
   * outputs: the next step() computes exactly what it would have, but finds
   * onnxruntime's code and the weights in cache (a control loop calls this
   * just before its deadline; see PeriodicTimer's beforeTick).
   */
  warm(): void {
    this.session?.run(this.feeds[this.cur], this.warmFetches, this.runOptions);
  }

  /** Zeroes the recurrent state (start of an episode). */
  reset(): void {
    for (const pair of [this.h, this.c]) {
      if (!pair) continue;
      pair.bufs[0].fill(0);
      pair.bufs[1].fill(0);
    }
    this.cur = 0;
  }

  /** A copy of the recurrent state to be fed next ([h] or [h, c]). */
  getState(): { h: Float32Array; c: Float32Array } {
    return {
      h: this.h ? this.h.bufs[this.cur].slice() : new Float32Array(0),
      c: this.c ? this.c.bufs[this.cur].slice() : new Float32Array(0),
    };
  }

  /** Sets the recurrent state to be fed next (e.g. a state logged earlier). */
  setState(state: { h: ArrayLike<number>; c?: ArrayLike<number> }): void {
    if (state.h.length !== this.hSize) throw new RangeError(`${this.onnxPath}: state h has ${state.h.length} values, the policy's h_in has ${this.hSize}`);
    const cLen = state.c?.length ?? 0;
    if (cLen !== this.cSize) throw new RangeError(`${this.onnxPath}: state c has ${cLen} values, the policy's c_in has ${this.cSize}`);
    if (this.h) this.h.bufs[this.cur].set(state.h);
    if (this.c && state.c) this.c.bufs[this.cur].set(state.c);
  }

  /** Releases the onnxruntime session; the policy cannot step afterwards. */
  dispose(): void {
    const s = this.session;
    this.session = undefined;
    s?.dispose();
  }
}
