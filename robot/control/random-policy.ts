/**
 * A deployable policy with seeded random weights for a task: the ONNX file
 * and its policy.json, shaped like a trained UP-OSI policy (GRU actor, OSI
 * head estimating the task's randomized parameters). Its actions mean
 * nothing; it exists so that the runtime's timing, logging and plumbing can be
 * benchmarked and smoke-tested before (and independently of) training.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { onnxManifestEntry, writeManifest, MANIFEST_SCHEMA_VERSION, type Manifest } from "../../policies/manifest.js";
import { exportPolicyOnnx } from "../../policies/onnx/export-policy.js";
import { layoutPolicy, type PolicyParts } from "../../policies/onnx/policy-parts.js";
import { randomPolicyParts } from "../../policies/onnx/random-parts.js";
import { setupTask } from "../../sim/env/sim-env.js";
import { getTask } from "../../sim/tasks/registry.js";

export interface RandomPolicyOptions {
  task: string;
  /** Partial task config (validated by the task's schema). */
  taskConfig?: unknown;
  seed?: number;
  /** Default the task's controlDt. */
  controlPeriodSec?: number;
  /** GRU width of the actor (0: a plain MLP). Default 64. */
  gru?: number;
  /** Include an OSI head estimating the randomized parameters. Default true. */
  osi?: boolean;
  /** Edits the weights before export (e.g. a policy that overflows to NaN on real inputs). */
  editParts?: (parts: PolicyParts) => void;
  /** A manifest field changed after the fact, to test refusals. */
  tamper?: (m: Manifest) => void;
  /** Base name of the files. Default "policy". */
  name?: string;
}

export interface RandomPolicyFiles {
  onnxPath: string;
  manifestPath: string;
  manifest: Manifest;
}

export function writeRandomPolicy(dir: string, o: RandomPolicyOptions): RandomPolicyFiles {
  const task = getTask(o.task);
  const config = task.configSchema.parse(o.taskConfig ?? {}, "taskConfig");
  const setup = setupTask(task, config);
  const spec = setup.spec;
  const ranges = setup.randomizer.privilegedRanges();
  const gru = o.gru ?? 64;
  const withOsi = (o.osi ?? true) && ranges.length > 0;
  const parts = randomPolicyParts(
    {
      obsSize: spec.numObs,
      actSize: spec.numActions,
      normalizeObs: true,
      actor: { hidden: [64], activation: "tanh", recurrent: gru > 0 ? { kind: "gru", size: gru } : undefined },
      osi: withOsi ? { outSize: ranges.length, hidden: [32], activation: "tanh" } : undefined,
    },
    o.seed ?? 1,
  );
  o.editParts?.(parts);
  const layout = layoutPolicy(parts);
  const name = o.name ?? "policy";
  const onnxPath = join(dir, `${name}.onnx`);
  writeFileSync(onnxPath, exportPolicyOnnx(parts, { actionBound: { kind: "tanh", low: spec.actionLayout.map(() => -1), high: spec.actionLayout.map(() => 1) } }));
  const manifest: Manifest = {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    task: spec.task,
    robot: spec.robot,
    jointOrder: spec.jointOrder,
    observation: spec.observationLayout,
    action: spec.actionLayout.map((a) => ({ name: a.name, unit: a.unit, low: -1, high: 1, scale: a.scale })),
    controlPeriodSec: o.controlPeriodSec ?? spec.controlDt,
    recurrent: layout.recurrentKind === "lstm" ? { kind: "lstm", hInSize: layout.hSize, cInSize: layout.cSize } : { kind: layout.recurrentKind, hInSize: layout.hSize },
    osi: withOsi
      ? { names: ranges.map((r) => r.name), nominal: ranges.map((r) => r.nominal), normalization: { center: ranges.map((r) => (r.low + r.high) / 2), halfRange: ranges.map((r) => (r.high - r.low) / 2 || 1) } }
      : undefined,
    training: { run: `random-weights-seed-${o.seed ?? 1}`, configHash: "none" },
    onnx: onnxManifestEntry(onnxPath),
  };
  o.tamper?.(manifest);
  const manifestPath = join(dir, `${name}.json`);
  writeManifest(manifestPath, manifest);
  return { onnxPath, manifestPath, manifest };
}
