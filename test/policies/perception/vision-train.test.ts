import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "../../../common/rng.js";
import { FRAME_STREAMS, framePool, readVisionCheckpoint, resolveVisionTrainConfig, trainVision } from "../../../policies/perception/vision-runner.js";
import { exportVisionRun, loadVisionRunNetwork } from "../../../policies/perception/vision-run-export.js";
import { OnnxPerception } from "../../../policies/runtime/onnx-perception.js";

/**
 * vision train on a tiny budget (32 x 32, a small network, a few hundred
 * frames): the validation error falls, --resume continues the run, the
 * export matches the in-process network on 1000 randomized renders, and
 * `vision eval --randomized` prints the recording mode's JSON.
 */

const dir = mkdtempSync(join(tmpdir(), "s2r-vtrain-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const bin = fileURLToPath(new URL("../../../../bin/s2r.js", import.meta.url));

const tiny = (over: { training?: object; frames?: object } = {}) =>
  resolveVisionTrainConfig("furuta", {
    network: { inputWidth: 32, inputHeight: 32, groups: 4, conv: [{ channels: 8, kernel: 5, stride: 2 }, { channels: 16, kernel: 3, stride: 2 }], head: [32] },
    frames: { maxSpeed: 4, ...over.frames },
    training: { batchSize: 16, validationFrames: 64, validateEvery: 128, checkpointEvery: 10_000, workers: 1, learningRate: 2e-3, finalLearningRate: 5e-4, ...over.training },
  });

test("training on fresh renders lowers the validation error clearly (nominal look, 896 frames)", async () => {
  const out = join(dir, "learn");
  const r = await trainVision({ taskName: "furuta", config: tiny({ training: { totalFrames: 896 }, frames: { randomized: false } }), outDir: out });
  assert.equal(r.frames, 896);
  const { checkpoint } = readVisionCheckpoint(out);
  const first = checkpoint.history[0]!.valRmseDeg, last = checkpoint.history.at(-1)!.valRmseDeg;
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  assert.ok(mean(last) < 0.75 * mean(first), `validation RMSE ${first.map((v) => v.toFixed(1))} -> ${last.map((v) => v.toFixed(1))} deg`);
  for (const f of ["metrics.csv", "report.html", "validation-grid.png", "config.json"]) assert.ok(existsSync(join(out, f)), f);
  const csv = readFileSync(join(out, "metrics.csv"), "utf8").trim().split("\n");
  assert.match(csv[0]!, /^frames,seconds,frames_per_sec,learning_rate,train_loss,val_rmse_deg_arm_joint,val_rmse_deg_pendulum_joint$/);
  assert.equal(csv.length, checkpoint.history.length + 1);
});

test("--resume continues from the checkpoint (frames, optimizer steps, history) on new random streams", async () => {
  const out = join(dir, "resume");
  await trainVision({ taskName: "furuta", config: tiny({ training: { totalFrames: 256 } }), outDir: out });
  const a = readVisionCheckpoint(out).checkpoint;
  assert.equal(a.frames, 256);
  assert.equal(a.segment, 0);
  const config = tiny({ training: { totalFrames: 512 } });
  const r = await trainVision({ taskName: "furuta", config, outDir: out, resume: a });
  const b = readVisionCheckpoint(out).checkpoint;
  assert.equal(r.frames, 512);
  assert.equal(b.updates, a.updates + 16);
  assert.equal(b.segment, 1);
  assert.deepEqual(b.history.slice(0, a.history.length), a.history);
  assert.ok(b.history.length > a.history.length);
  assert.equal((b.optimizer as { step: number }).step, a.updates + 16);
  assert.notDeepEqual(b.network, a.network);
  // metrics.csv holds exactly the checkpoint's history (no rows of a segment lost after a checkpoint).
  const rows = readFileSync(join(out, "metrics.csv"), "utf8").trim().split("\n").slice(1).map((l) => Number(l.split(",")[0]));
  assert.deepEqual(rows, b.history.map((h) => h.frames));
});

test("the exported vision.onnx matches the in-process network within 1e-4 over 1000 randomized renders", async () => {
  const out = join(dir, "export");
  await trainVision({ taskName: "furuta", config: tiny({ training: { totalFrames: 64 } }), outDir: out });
  const files = exportVisionRun(out);
  const { file, checkpoint } = readVisionCheckpoint(out);
  const net = loadVisionRunNetwork(checkpoint, file);
  // Weights away from their init so that a layout mistake cannot hide behind GroupNorm's unit gamma.
  const rng = new Rng(3);
  for (const p of net.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = p.value[i]! + 0.1 * rng.normal();
  const { writeVisionExport } = await import("../../../policies/perception/vision-export.js");
  const { visionRunCamera } = await import("../../../policies/perception/vision-run-export.js");
  writeVisionExport(out, net, { camera: visionRunCamera(checkpoint), training: { run: out, configHash: checkpoint.configHash } });
  const onnx = OnnxPerception.load(files.onnx, files.manifest);
  const pool = await framePool("furuta", checkpoint.config, 99, FRAME_STREAMS.evaluation, 1);
  try {
    const ctx = net.newContext({ maxRows: 50 });
    let worst = 0;
    for (let done = 0; done < 1000; done += 50) {
      const batch = await pool.next(50);
      const ref = net.forward(ctx, batch.images, 50);
      const got = onnx.run(batch.images, 50);
      for (let i = 0; i < ref.joints.length; i++) worst = Math.max(worst, Math.abs(got.joints[i]! - ref.joints[i]!));
      for (let i = 0; i < ref.features.length; i++) worst = Math.max(worst, Math.abs(got.features[i]! - ref.features[i]!));
    }
    assert.ok(worst <= 1e-4, `worst difference ${worst}`);
  } finally {
    await pool.close();
    onnx.dispose();
    net.dispose();
  }
});

test("s2r export + vision eval --randomized print {frames, joints: {name: {rmseDeg, p95Deg, maxDeg}}}", () => {
  const out = join(dir, "learn");
  execFileSync(process.execPath, [bin, "export", out], { encoding: "utf8" });
  const text = execFileSync(process.execPath, [bin, "vision", "eval", out, "--randomized", "--frames", "40", "--seed", "5", "--json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const r = JSON.parse(text);
  assert.equal(r.frames, 40);
  assert.deepEqual(Object.keys(r.joints), ["arm_joint", "pendulum_joint"]);
  for (const s of Object.values(r.joints) as Record<string, number>[]) {
    for (const k of ["rmseDeg", "p95Deg", "maxDeg"]) assert.ok(Number.isFinite(s[k]) && s[k]! >= 0, k);
    assert.ok(s.p95Deg! <= s.maxDeg! && s.rmseDeg! <= s.maxDeg!);
  }
});
