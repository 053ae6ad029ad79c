import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { createArena } from "./nn/index.js";
import { ActorCritic } from "./actor-critic.js";
import type { Checkpoint } from "./checkpoint.js";
import { exportPolicyOnnx } from "./onnx/export-policy.js";
import { layoutPolicy } from "./onnx/policy-parts.js";
import { onnxManifestEntry, writeManifest, MANIFEST_SCHEMA_VERSION, type Manifest } from "./manifest.js";
import type { PolicyConfig } from "./train-config.js";

export const EXPORT_OPSET = 17;

/**
 * Writes a checkpoint's policy as one self-contained ONNX file (observation
 * normalization, OSI network and actor inside; recurrent state as explicit
 * h_in/h_out (c_in/c_out) tensors; the action clipped to [-1, 1]) and the
 * manifest policy.json next to it, plus the run's config.json so the policy
 * can be evaluated in simulation later.
 */
export function exportCheckpoint(ck: Checkpoint, runDir: string, outFile: string): { onnx: string; manifest: string; manifestData: Manifest } {
  const arena = createArena();
  try {
    const model = new ActorCritic(arena, ck.envSpec, (ck.config as { policy: PolicyConfig }).policy, 0);
    model.setState(ck.model, "checkpoint.model");
    const parts = model.toParts();
    const layout = layoutPolicy(parts);
    const spec = ck.envSpec;
    const bytes = exportPolicyOnnx(parts, {
      opset: EXPORT_OPSET,
      actionBound: { kind: "clip", low: spec.actionLayout.map(() => -1), high: spec.actionLayout.map(() => 1) },
      graphName: `s2r_${ck.task}`,
      metadata: { task: ck.task, robot: spec.robot, configHash: ck.configHash },
    });
    const out = resolve(outFile);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, bytes);
    const manifest: Manifest = {
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      task: ck.task,
      robot: spec.robot,
      jointOrder: [...spec.jointOrder],
      observation: spec.observationLayout.map((o) => ({ ...o })),
      // The network's output is in [-1, 1]; the physical command is output x scale.
      action: spec.actionLayout.map((a) => ({ name: a.name, unit: a.unit, low: -1, high: 1, scale: a.scale })),
      controlPeriodSec: spec.controlDt,
      recurrent: { kind: layout.recurrentKind, hInSize: layout.hSize, ...(layout.cSize > 0 ? { cInSize: layout.cSize } : {}) },
      ...(model.osi
        ? {
            osi: {
              names: ck.privileged.map((p) => p.name),
              nominal: ck.privileged.map((p) => p.nominal),
              // Physical value ~ center + halfRange x estimate (exact for uniform ranges).
              normalization: { center: ck.privileged.map((p) => (p.low + p.high) / 2), halfRange: ck.privileged.map((p) => Math.max((p.high - p.low) / 2, 1e-12)) },
            },
          }
        : {}),
      training: { run: basename(resolve(runDir)), configHash: ck.configHash, ...(ck.adr ? { adrRanges: ck.adr.entries.map((e) => ({ target: e.target, low: e.low, high: e.high })) } : {}) },
      onnx: onnxManifestEntry(out),
    };
    const manifestFile = join(dirname(out), "policy.json");
    writeManifest(manifestFile, manifest);
    const cfg = join(runDir, "config.json");
    const cfgOut = join(dirname(out), "config.json");
    if (existsSync(cfg) && resolve(cfg) !== resolve(cfgOut)) copyFileSync(cfg, cfgOut);
    else if (!existsSync(cfgOut)) writeFileSync(cfgOut, JSON.stringify(ck.config, null, 2) + "\n");
    return { onnx: out, manifest: manifestFile, manifestData: manifest };
  } finally {
    arena.dispose();
  }
}
