import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../common/atomic-file.js";
import type { EnvSpec } from "../sim/env/contract.js";
import type { AdrState } from "../sim/randomization/adr.js";

/**
 * A training checkpoint: everything needed to continue training or to
 * evaluate and export the policy. Written atomically (temporary file, fsync,
 * rename), so a crash leaves either the previous checkpoint or the new one,
 * never half of one.
 */
export interface Checkpoint {
  schema: 1;
  kind: "s2r-checkpoint";
  task: string;
  /** The full, validated training config ({ task, policy, ppo, run }). */
  config: Record<string, unknown>;
  /** SHA-256 of the canonical JSON of `config`. */
  configHash: string;
  envSpec: EnvSpec;
  /** Names and ranges of the privileged parameters, for reports and manifests. */
  privileged: { name: string; nominal: number; center: number; halfRange: number; low: number; high: number }[];
  model: object;
  optimizer: object;
  /** The OSI network's own optimizer (absent in checkpoints written before it had one). */
  osiOptimizer?: object;
  rng: number[];
  progress: { update: number; steps: number; wallSeconds: number; episodes: number; successRate: number; meanReturn: number };
  savedAt: string;
  /** Automatic domain randomization's ranges and boundary buffers, when the run uses it. */
  adr?: AdrState;
  /** In a best checkpoint: the periodic deterministic evaluation that selected it. */
  evaluation?: PeriodicEvaluation;
  /** In the latest checkpoint: the best periodic evaluation so far (a resumed run keeps its best). */
  bestEvaluation?: PeriodicEvaluation;
}

/** One periodic deterministic evaluation during training (the same fixed episodes every time). */
export interface PeriodicEvaluation {
  update: number;
  steps: number;
  successRate: number;
  meanReturn: number;
  episodes: number;
  seed: number;
}

export const CHECKPOINT_FILE = "checkpoint.json";
/** The checkpoint whose deterministic evaluation was best; what eval, export and deploy use when present. */
export const BEST_CHECKPOINT_FILE = "best-checkpoint.json";

export function writeCheckpoint(dir: string, ck: Checkpoint, name = CHECKPOINT_FILE): string {
  const file = join(dir, name);
  writeFileAtomic(file, JSON.stringify(ck));
  return file;
}

export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "CheckpointError";
  }
}

/**
 * The policy a run directory stands for: its best checkpoint when training
 * kept one (periodic deterministic evaluation), else its latest. A file is
 * read as given.
 */
export function readPolicyCheckpoint(dirOrFile: string): { file: string; checkpoint: Checkpoint } {
  return readCheckpoint(existsSync(join(dirOrFile, BEST_CHECKPOINT_FILE)) ? join(dirOrFile, BEST_CHECKPOINT_FILE) : dirOrFile);
}

/** The checkpoint file beside a policy export in `dir`: the best one when present (export writes from it). */
export function policyCheckpointFile(dir: string): string {
  return existsSync(join(dir, BEST_CHECKPOINT_FILE)) ? join(dir, BEST_CHECKPOINT_FILE) : join(dir, CHECKPOINT_FILE);
}

/** Reads the latest checkpoint (to continue training) from a run directory, or a checkpoint file. */
export function readCheckpoint(dirOrFile: string): { file: string; checkpoint: Checkpoint } {
  const file = existsSync(join(dirOrFile, CHECKPOINT_FILE)) ? join(dirOrFile, CHECKPOINT_FILE) : dirOrFile;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(file, code === "EISDIR" ? `no ${CHECKPOINT_FILE} in this directory (is it a training run?)` : `cannot read (${code ?? (e as Error).message})`);
  }
  let ck: Checkpoint;
  try {
    ck = JSON.parse(text) as Checkpoint;
  } catch (e) {
    throw new CheckpointError(file, `not valid JSON (${(e as Error).message}); the file may be truncated`);
  }
  if (ck?.kind !== "s2r-checkpoint") throw new CheckpointError(file, "not an s2r checkpoint (kind is not \"s2r-checkpoint\")");
  if (ck.schema !== 1) throw new CheckpointError(file, `unsupported checkpoint schema ${String(ck.schema)} (this s2r reads schema 1)`);
  for (const k of ["task", "config", "envSpec", "model", "optimizer", "rng", "progress"] as const) {
    if (ck[k] === undefined) throw new CheckpointError(file, `missing field "${k}"`);
  }
  return { file, checkpoint: ck };
}
