/**
 * Chooses what runs an exported policy inside a control loop: onnxruntime,
 * or the in-process core built from the training checkpoint that sits beside
 * the export (`s2r export DIR` writes policy.onnx next to DIR/checkpoint.json).
 *
 * The ONNX file is the contract (its manifest and SHA-256 are checked either
 * way). The core runs it only after stepping both side by side on the same
 * observations, recurrent state carried, and finding the same actions and
 * OSI estimates: a checkpoint trained further after the export, or from
 * another run, is refused. In "auto" mode a refusal falls back to
 * onnxruntime and says why.
 */

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { Rng } from "../../common/rng.js";
import { CHECKPOINT_FILE, policyCheckpointFile, readCheckpoint } from "../checkpoint.js";
import { CorePolicy } from "./core-policy.js";
import { OnnxPolicy } from "./onnx-policy.js";

export const POLICY_RUNTIMES = ["auto", "core", "onnxruntime"] as const;
export type PolicyRuntimeChoice = (typeof POLICY_RUNTIMES)[number];

/** Agreement the core must show with the ONNX file (the export is float32 throughout; the parity test sees ~1e-6). */
export const CORE_PARITY_TOLERANCE = 1e-4;
const PARITY_STEPS = 300;

export interface LoadedLoopPolicy {
  policy: OnnxPolicy | CorePolicy;
  runtime: "core" | "onnxruntime";
  /** One line for people and the session log: why this runtime. */
  why: string;
}

/** Largest |difference| of actions and OSI estimates over `steps` steps of the same observations, from a zero state. */
export function maxStepDifference(a: OnnxPolicy | CorePolicy, b: OnnxPolicy | CorePolicy, steps: number, seed = 11): number {
  const rng = new Rng(seed);
  const obs = new Float32Array(a.obsSize);
  a.reset();
  b.reset();
  let worst = 0;
  for (let i = 0; i < steps; i++) {
    for (let k = 0; k < obs.length; k++) obs[k] = 2 * rng.normal();
    const oa = a.step(obs);
    const ob = b.step(obs);
    for (let k = 0; k < oa.action.length; k++) worst = Math.max(worst, Math.abs(oa.action[k]! - ob.action[k]!));
    if (oa.osi && ob.osi) for (let k = 0; k < oa.osi.length; k++) worst = Math.max(worst, Math.abs(oa.osi[k]! - ob.osi[k]!));
    if (!(worst <= CORE_PARITY_TOLERANCE)) break; // NaN included
  }
  a.reset();
  b.reset();
  return worst;
}

/** The reason the core cannot stand in for the ONNX file, or undefined when it can (then `core` is set). */
function tryCore(onnx: OnnxPolicy, checkpointFile: string): { core?: CorePolicy; problem?: string; difference?: number } {
  if (!existsSync(checkpointFile)) return { problem: `no ${CHECKPOINT_FILE} beside the policy (${checkpointFile})` };
  let core: CorePolicy;
  try {
    const { checkpoint } = readCheckpoint(checkpointFile);
    const wanted = onnx.manifest?.training.configHash;
    if (wanted && checkpoint.configHash !== wanted) {
      return { problem: `${checkpointFile} was trained with config ${checkpoint.configHash.slice(0, 12)}, the manifest's policy with ${wanted.slice(0, 12)}` };
    }
    core = new CorePolicy(checkpoint, checkpointFile);
  } catch (e) {
    return { problem: (e as Error).message };
  }
  const shape = (p: OnnxPolicy | CorePolicy) => `${p.obsSize} -> ${p.actionSize}, osi ${p.osiSize}`;
  if (shape(core) !== shape(onnx)) {
    core.dispose();
    return { problem: `${checkpointFile} is a ${shape(core)} policy, the ONNX file ${shape(onnx)}` };
  }
  const difference = maxStepDifference(onnx, core, PARITY_STEPS);
  if (!(difference <= CORE_PARITY_TOLERANCE)) {
    core.dispose();
    return { problem: `${checkpointFile} does not compute what ${onnx.onnxPath} does (outputs differ by ${difference.toExponential(2)} within ${PARITY_STEPS} steps; tolerance ${CORE_PARITY_TOLERANCE})`, difference };
  }
  return { core, difference };
}

/**
 * Loads the policy a control loop steps. `auto` (the default of deploy) runs
 * the in-process core when its checkpoint checks out against the ONNX file,
 * else onnxruntime; `core` insists on the core (an error says why it cannot);
 * `onnxruntime` always uses onnxruntime.
 */
export async function loadLoopPolicy(onnxPath: string, manifestPath: string | undefined, runtime: PolicyRuntimeChoice = "auto", checkpointFile?: string): Promise<LoadedLoopPolicy> {
  if (!POLICY_RUNTIMES.includes(runtime)) throw new RangeError(`policy runtime must be one of ${POLICY_RUNTIMES.join(", ")}, got "${runtime}"`);
  const onnx = await OnnxPolicy.load(onnxPath, manifestPath);
  if (runtime === "onnxruntime") return { policy: onnx, runtime: "onnxruntime", why: "onnxruntime (requested)" };
  const file = checkpointFile ?? policyCheckpointFile(dirname(manifestPath ?? onnxPath));
  const { core, problem, difference } = tryCore(onnx, file);
  if (!core) {
    if (runtime === "core") {
      onnx.dispose();
      throw new Error(`the in-process core cannot run ${onnxPath}: ${problem}`);
    }
    return { policy: onnx, runtime: "onnxruntime", why: `onnxruntime (the in-process core cannot run it: ${problem})` };
  }
  onnx.dispose();
  return {
    policy: core,
    runtime: "core",
    why: `in-process core from ${file} (agrees with the ONNX file within ${difference!.toExponential(1)} over ${PARITY_STEPS} steps; faster in the loop, see s2r bench policy)`,
  };
}
