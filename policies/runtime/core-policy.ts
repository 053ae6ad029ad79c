/**
 * Runs a trained policy one observation at a time through the in-process
 * neural-network core (the training forward pass, WebAssembly SIMD), with the
 * same step/reset/warm surface as OnnxPolicy.
 *
 * Why a control loop may prefer it to onnxruntime: at batch 1 the policy is
 * a few small matrix products, and onnxruntime's per-run overhead (a graph
 * of ~40 primitive operators, each dispatched through its executor) is paid
 * with cold caches when the loop's thread has slept through the period.
 * Measured at 100 Hz with the thread sleeping between steps (`s2r bench
 * policy`), the core stays several times faster. The ONNX file stays the
 * contract: `loadLoopPolicy` runs this only after checking it against the
 * file, step by step.
 */

import { ActorCritic, PolicyStepper } from "../actor-critic.js";
import type { Checkpoint } from "../checkpoint.js";
import { createArena } from "../nn/index.js";
import type { PolicyConfig } from "../train-config.js";
import type { PolicyOutput } from "./onnx-policy.js";

export class CorePolicy {
  readonly obsSize: number;
  readonly actionSize: number;
  readonly osiSize: number;

  private arena: ReturnType<typeof createArena> | undefined;
  private readonly stepper: PolicyStepper;
  private readonly obsBuf: Float32Array;
  private readonly actionBuf: Float32Array;
  private readonly osiBuf: Float32Array | undefined;
  /** The recurrent state kept aside while warm() runs a throw-away step. */
  private readonly savedState: Float32Array;
  private readonly output: PolicyOutput;

  constructor(
    checkpoint: Checkpoint,
    /** Names the source in errors. */
    readonly source: string,
  ) {
    this.arena = createArena();
    const model = new ActorCritic(this.arena, checkpoint.envSpec, (checkpoint.config as { policy: PolicyConfig }).policy, 0);
    model.setState(checkpoint.model, "checkpoint.model");
    this.stepper = new PolicyStepper(model, 1);
    this.obsSize = checkpoint.envSpec.numObs;
    this.actionSize = checkpoint.envSpec.numActions;
    this.osiSize = model.osi ? checkpoint.envSpec.numPrivileged : 0;
    this.obsBuf = new Float32Array(this.obsSize);
    this.actionBuf = new Float32Array(this.actionSize);
    this.osiBuf = this.osiSize > 0 ? new Float32Array(this.osiSize) : undefined;
    this.savedState = new Float32Array(this.stepper.stateBufferSize);
    this.output = this.osiBuf ? { action: this.actionBuf, osi: this.osiBuf } : { action: this.actionBuf };
  }

  /** Runs one step. The returned arrays are owned by the policy and overwritten by the next step. */
  step(obs: Float32Array): PolicyOutput {
    if (!this.arena) throw new Error(`${this.source}: step() after dispose()`);
    if (obs.length !== this.obsSize) throw new RangeError(`${this.source}: observation has ${obs.length} values, the policy takes ${this.obsSize}`);
    this.obsBuf.set(obs);
    const mean = this.stepper.act(this.obsBuf, null);
    // s2r export bounds every action to [-1, 1] in the graph (policies/export.ts); the core does the same.
    for (let k = 0; k < this.actionSize; k++) this.actionBuf[k] = Math.min(1, Math.max(-1, mean[k]!));
    if (this.osiBuf) this.osiBuf.set(this.stepper.osiEstimate.subarray(0, this.osiSize));
    return this.output;
  }

  /**
   * Runs a step on the last observation and then puts the recurrent state
   * back: the next step() computes exactly what it would have, but finds the
   * weights and the code in cache. Outputs returned by step() are untouched.
   */
  warm(): void {
    if (!this.arena) return;
    this.stepper.saveState(this.savedState);
    this.stepper.act(this.obsBuf, null);
    this.stepper.restoreState(this.savedState);
  }

  /** Zeroes the recurrent state (start of an episode). */
  reset(): void {
    this.stepper.resetAll();
  }

  /** Frees the WebAssembly memory; the policy cannot step afterwards. */
  dispose(): void {
    const a = this.arena;
    this.arena = undefined;
    a?.dispose();
  }
}
