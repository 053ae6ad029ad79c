import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../common/atomic-file.js";
import type { EnvSpec } from "../sim/env/contract.js";

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
  rng: number[];
  progress: { update: number; steps: number; wallSeconds: number; episodes: number; successRate: number; meanReturn: number };
  savedAt: string;
}

export const CHECKPOINT_FILE = "checkpoint.json";

export function writeCheckpoint(dir: string, ck: Checkpoint): string {
  const file = join(dir, CHECKPOINT_FILE);
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

/** Reads a checkpoint from a run directory or a checkpoint file. */
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
