import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../common/rng.js";
import { onnxManifestEntry, writeManifest, type Manifest } from "../../policies/manifest.js";
import { exportPolicyOnnx } from "../../policies/onnx/export-policy.js";
import { randomPolicyParts, type RandomPolicyShape } from "../../policies/onnx/random-parts.js";
import { ReferencePolicy } from "../../policies/onnx/reference.js";
import { OnnxPolicy } from "../../policies/runtime/onnx-policy.js";
import { cleanOrtMessage } from "../../policies/runtime/ort-native-session.js";
import { benchPolicyRuntime, gru128BenchmarkModel } from "../../policies/runtime/bench-policy-runtime.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-runtime-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function writePolicy(name: string, shape: RandomPolicyShape, seed: number) {
  const parts = randomPolicyParts(shape, seed);
  const onnxPath = join(dir, `${name}.onnx`);
  writeFileSync(onnxPath, exportPolicyOnnx(parts));
  return { parts, onnxPath };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const upOsiLstm: RandomPolicyShape = {
  obsSize: 5,
  actSize: 2,
  normalizeObs: true,
  osi: { outSize: 3, hidden: [8], recurrent: { kind: "gru", size: 6 } },
  actor: { hidden: [16], recurrent: { kind: "lstm", size: 10 } },
};

test("OnnxPolicy steps a recurrent UP-OSI policy like the reference, and reset() restarts the episode", async () => {
  const { parts, onnxPath } = writePolicy("upositlstm", upOsiLstm, 11);
  const policy = await OnnxPolicy.load(onnxPath);
  try {
    assert.deepEqual([policy.obsSize, policy.actionSize, policy.osiSize, policy.hSize, policy.cSize], [5, 2, 3, 16, 10]);
    const ref = new ReferencePolicy(parts);
    const rng = new Rng(4);
    const observations = Array.from({ length: 300 }, () => Float32Array.from({ length: 5 }, () => 2 * rng.normal()));
    const firstActions: Float32Array[] = [];
    for (const obs of observations) {
      const out = policy.step(obs);
      const want = ref.step(obs);
      assert.ok(maxAbsDiff(out.action, want.action) <= 1e-5);
      assert.ok(maxAbsDiff(out.osi!, want.osi!) <= 1e-5);
      firstActions.push(out.action.slice());
    }
    const state = policy.getState();
    assert.ok(maxAbsDiff(state.h, ref.h) <= 1e-5 && maxAbsDiff(state.c, ref.c) <= 1e-5);
    assert.ok(maxAbsDiff(state.h, new Float32Array(16)) > 0.01, "the state moved");

    // The same observations after reset() give the same actions: the state was really cleared.
    policy.reset();
    observations.slice(0, 20).forEach((obs, i) => assert.ok(maxAbsDiff(policy.step(obs).action, firstActions[i]!) <= 1e-6));

    // setState() resumes from a saved state.
    policy.setState(state);
    ref.h.set(state.h);
    ref.c.set(state.c);
    assert.ok(maxAbsDiff(policy.step(observations[0]!).action, ref.step(observations[0]!).action) <= 1e-5);

    // The returned arrays are the policy's own buffers, reused every step (no per-step allocation).
    const a = policy.step(observations[1]!).action;
    assert.equal(policy.step(observations[2]!).action, a);

    assert.throws(() => policy.step(new Float32Array(4)), /upositlstm\.onnx: observation has 4 values, the policy takes 5/);
    assert.throws(() => policy.setState({ h: new Float32Array(3) }), /state h has 3 values, the policy's h_in has 16/);
  } finally {
    policy.dispose();
  }
  assert.throws(() => policy.step(new Float32Array(5)), /step\(\) after dispose\(\)/);
  policy.dispose(); // idempotent
});

test("OnnxPolicy runs a plain MLP policy (no state) and loads with a matching manifest", async () => {
  const { parts, onnxPath } = writePolicy("mlp", { obsSize: 3, actSize: 1, actor: { hidden: [8] } }, 12);
  const manifestPath = join(dir, "mlp.policy.json");
  const manifest: Manifest = {
    schemaVersion: 1,
    task: "t",
    robot: "r",
    jointOrder: ["j"],
    observation: ["a", "b", "c"].map((name) => ({ name, unit: "1", source: `test:${name}` })),
    action: [{ name: "u", unit: "V", low: -1, high: 1, scale: 1 }],
    controlPeriodSec: 0.01,
    recurrent: { kind: "none", hInSize: 0, cInSize: undefined },
    osi: undefined,
    training: { run: "x", configHash: "y" },
    onnx: onnxManifestEntry(onnxPath),
  };
  writeManifest(manifestPath, manifest);
  const policy = await OnnxPolicy.load(onnxPath, manifestPath);
  try {
    assert.equal(policy.manifest?.robot, "r");
    assert.equal(policy.hSize, 0);
    const out = policy.step(Float32Array.of(0.1, -0.2, 0.3));
    assert.equal(out.osi, undefined);
    assert.ok(Math.abs(out.action[0]! - new ReferencePolicy(parts).step([0.1, -0.2, 0.3]).action[0]!) <= 1e-5);
    assert.deepEqual(policy.getState(), { h: new Float32Array(0), c: new Float32Array(0) });
  } finally {
    policy.dispose();
  }
});

test("onnxruntime's messages lose their source location and C++ signature", () => {
  assert.equal(
    cleanOrtMessage("/onnxruntime_src/onnxruntime/core/graph/model_load_utils.h:46 void onnxruntime::f(const std::map<int, int>&, bool (*)(int)) Opset 99 is under development."),
    "Opset 99 is under development.",
  );
  assert.equal(
    cleanOrtMessage('This is an invalid model. In Node, ("", FooBar, "", -1) : ("obs": tensor(float),) -> ("action": tensor(float),) , Error No Op registered for FooBar'),
    "invalid graph: node (FooBar): No Op registered for FooBar",
  );
  assert.equal(cleanOrtMessage("plain message "), "plain message");
});

test("the latency benchmark runs the GRU-128 reference model (figures are reported, not asserted)", async () => {
  const onnxPath = join(dir, "gru128.onnx");
  writeFileSync(onnxPath, gru128BenchmarkModel());
  const r = await benchPolicyRuntime(onnxPath, { steps: 200, warmup: 20 });
  assert.equal(r.steps, 200);
  assert.ok(r.p50Micros > 0 && r.p50Micros <= r.p99Micros && r.p99Micros <= r.maxMicros);
});
