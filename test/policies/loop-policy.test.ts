import test from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectPath } from "../../common/paths.js";
import { Rng } from "../../common/rng.js";
import { readCheckpoint, writeCheckpoint } from "../../policies/checkpoint.js";
import { CorePolicy } from "../../policies/runtime/core-policy.js";
import { loadLoopPolicy } from "../../policies/runtime/loop-policy.js";
import { OnnxPolicy } from "../../policies/runtime/onnx-policy.js";

const shipped = projectPath("policies", "pretrained", "furuta");

/** A copy of the shipped export in a temporary folder, with or without a checkpoint beside it. */
function exportCopy(withCheckpoint: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), "s2r-loop-policy-"));
  for (const f of ["policy.onnx", "policy.json"]) copyFileSync(join(shipped, f), join(dir, f));
  if (withCheckpoint) copyFileSync(join(shipped, "checkpoint.json"), join(dir, "checkpoint.json"));
  return dir;
}

/** Actions and OSI of `steps` steps, with warm() before every other step when `warm`. */
function rollout(p: OnnxPolicy | CorePolicy, steps: number, warm: boolean): number[] {
  const rng = new Rng(5);
  const obs = new Float32Array(p.obsSize);
  const out: number[] = [];
  p.reset();
  for (let i = 0; i < steps; i++) {
    for (let k = 0; k < obs.length; k++) obs[k] = 2 * rng.normal();
    if (warm && i % 2 === 0) p.warm();
    const r = p.step(obs);
    out.push(...r.action, ...(r.osi ?? []));
    if (warm) p.warm(); // after a step too: the returned outputs of the step must not change
    out.push(...r.action);
  }
  return out;
}

test("auto runs the shipped export on the in-process core, which agrees with the ONNX file", async () => {
  const r = await loadLoopPolicy(join(shipped, "policy.onnx"), join(shipped, "policy.json"));
  try {
    assert.equal(r.runtime, "core");
    assert.ok(r.policy instanceof CorePolicy);
    assert.match(r.why, /agrees with the ONNX file within/);
  } finally {
    r.policy.dispose();
  }
});

test("warm() leaves what the policy computes unchanged (core and onnxruntime)", async () => {
  const core = (await loadLoopPolicy(join(shipped, "policy.onnx"), join(shipped, "policy.json"), "core")).policy;
  const ort = await OnnxPolicy.load(join(shipped, "policy.onnx"));
  try {
    for (const p of [core, ort]) {
      const plain = rollout(p, 60, false);
      const warmed = rollout(p, 60, true);
      assert.deepEqual(warmed, plain, `${p.constructor.name}: warm() changed the outputs`);
    }
  } finally {
    core.dispose();
    ort.dispose();
  }
});

test("without a checkpoint beside the export, auto falls back to onnxruntime saying why, and core is refused", async () => {
  const dir = exportCopy(false);
  try {
    const r = await loadLoopPolicy(join(dir, "policy.onnx"), join(dir, "policy.json"));
    assert.equal(r.runtime, "onnxruntime");
    assert.match(r.why, /no checkpoint\.json beside the policy/);
    r.policy.dispose();
    await assert.rejects(loadLoopPolicy(join(dir, "policy.onnx"), join(dir, "policy.json"), "core"), /in-process core cannot run .*no checkpoint\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a checkpoint that does not compute what the ONNX file does is refused (trained further after the export)", async () => {
  const dir = exportCopy(true);
  try {
    const { checkpoint } = readCheckpoint(dir);
    // Move the observation normalizer's mean, as further training (which keeps updating it) would.
    const model = structuredClone(checkpoint.model) as { obsNorm: { mean: { data: string } } };
    const mean = new Float64Array(new Uint8Array(Buffer.from(model.obsNorm.mean.data, "base64")).buffer);
    for (let i = 0; i < mean.length; i++) mean[i]! += 0.2;
    model.obsNorm.mean.data = Buffer.from(mean.buffer).toString("base64");
    writeCheckpoint(dir, { ...checkpoint, model });
    const r = await loadLoopPolicy(join(dir, "policy.onnx"), join(dir, "policy.json"));
    assert.equal(r.runtime, "onnxruntime");
    assert.match(r.why, /does not compute what .*policy\.onnx does \(outputs differ by/);
    r.policy.dispose();
    await assert.rejects(loadLoopPolicy(join(dir, "policy.onnx"), join(dir, "policy.json"), "core"), /does not compute what/);
    writeCheckpoint(dir, { ...checkpoint, configHash: "f".repeat(64) });
    const other = await loadLoopPolicy(join(dir, "policy.onnx"), join(dir, "policy.json"));
    assert.equal(other.runtime, "onnxruntime");
    assert.match(other.why, /trained with config ffffffffffff, the manifest's policy with/);
    other.policy.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
