import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  datasetFromJson,
  datasetToJson,
  readDatasetFile,
  simulateDataset,
  sliceDataset,
  validateDataset,
  type SysidDataset,
} from "../../calibration/sysid/dataset.js";
import { CURRENT_RESOLUTION, ENCODER_COUNT } from "../../calibration/sysid/simulate-dataset.js";
import { furutaSysidRig, symbolsToTargets } from "../../calibration/sysid/rig.js";

const rig = furutaSysidRig();

function small(n = 6): SysidDataset {
  return {
    t: Float64Array.from({ length: n }, (_, k) => k * 0.01),
    volts: new Float64Array(n).fill(1),
    theta: Float64Array.from({ length: n }, (_, k) => 0.01 * k),
    alpha: new Float64Array(n),
    current: new Float64Array(n),
    controlDt: 0.01,
  };
}

test("validateDataset accepts a good record and names the field and sample of a bad one", () => {
  assert.doesNotThrow(() => validateDataset(small()));
  const a = small();
  a.t[3] = a.t[2]!;
  assert.throws(() => validateDataset(a), /t\[3\]: time must increase strictly/);
  const b = small();
  b.theta[4] = NaN;
  assert.throws(() => validateDataset(b), /theta\[4\]: is NaN/);
  const c = small();
  c.alpha = new Float64Array(5);
  assert.throws(() => validateDataset(c), /alpha: has 5 samples, t has 6/);
  const d = small();
  d.alpha[2] = 4;
  assert.throws(() => validateDataset(d), /alpha\[2\]: jumps by 4\.000 rad.*wrapped/);
  const e = small();
  e.controlDt = 0;
  assert.throws(() => validateDataset(e), /controlDt: expected a positive number/);
  assert.throws(() => validateDataset(small(1)), /t: needs at least 2 samples/);
  const f = small() as Partial<SysidDataset>;
  delete f.volts;
  assert.throws(() => validateDataset(f as SysidDataset), /volts: missing/);
  const g = small() as unknown as Record<string, unknown>;
  g.theta = [0, 0, 0, 0, 0, 0];
  assert.throws(() => validateDataset(g as unknown as SysidDataset, "log.json"), /log\.json: theta: expected a Float64Array/);
});

test("sliceDataset copies a range; JSON round trip; file errors name the file and field", () => {
  const ds = small(10);
  const s = sliceDataset(ds, 2, 7);
  assert.equal(s.t.length, 5);
  assert.equal(s.t[0], ds.t[2]);
  assert.equal(s.current!.length, 5);
  s.theta[0] = 99;
  assert.notEqual(ds.theta[2], 99);
  assert.throws(() => sliceDataset(ds, 5, 5), /0 <= from < to <= 10/);

  const back = datasetFromJson(JSON.parse(JSON.stringify(datasetToJson(ds))));
  assert.deepEqual(Array.from(back.theta), Array.from(ds.theta));
  assert.deepEqual(Array.from(back.current!), Array.from(ds.current!));
  assert.throws(() => datasetFromJson({ ...datasetToJson(ds), volt: [] }, "run.json"), /run\.json: volt: unknown field/);
  const bad = datasetToJson(ds);
  (bad.alpha as unknown[])[3] = "x";
  assert.throws(() => datasetFromJson(bad, "run.json"), /run\.json: alpha\[3\]: expected a number/);

  const dir = mkdtempSync(join(tmpdir(), "sysid-ds-"));
  assert.throws(() => readDatasetFile(join(dir, "missing.json")), /missing\.json: \(root\): cannot read file: ENOENT/);
  writeFileSync(join(dir, "broken.json"), "{");
  assert.throws(() => readDatasetFile(join(dir, "broken.json")), /broken\.json: \(root\): not valid JSON/);
  writeFileSync(join(dir, "ok.json"), JSON.stringify(datasetToJson(ds)));
  assert.equal(readDatasetFile(join(dir, "ok.json")).t.length, 10);
});

test("simulateDataset: deterministic per seed, quantized angles and current, safety clamp", async () => {
  const commands = Float64Array.from({ length: 60 }, (_, k) => (k < 30 ? 10 : -2));
  const a = await simulateDataset({ rig, commands, seed: 4 });
  const b = await simulateDataset({ rig, commands, seed: 4 });
  const c = await simulateDataset({ rig, commands, seed: 5 });
  assert.deepEqual(Array.from(a.theta), Array.from(b.theta));
  assert.notDeepEqual(Array.from(a.theta), Array.from(c.theta));
  validateDataset(a);
  // 10 V asked, 6 V written (rig page safety limit) and logged.
  assert.equal(a.volts[0], 6);
  assert.equal(a.volts[40], -2);
  for (let k = 0; k < a.t.length; k++) {
    assert.ok(Math.abs(a.theta[k]! / ENCODER_COUNT - Math.round(a.theta[k]! / ENCODER_COUNT)) < 1e-6, `theta[${k}] is not a whole count`);
    assert.ok(Math.abs(a.current![k]! / CURRENT_RESOLUTION - Math.round(a.current![k]! / CURRENT_RESOLUTION)) < 1e-6, `current[${k}] is not a whole 2.69 mA step`);
    // Quantization plus one count of noise: the reading is within a few counts of the truth.
    assert.ok(Math.abs(a.theta[k]! - a.truth.theta[k]!) < 6 * ENCODER_COUNT);
  }
  // The arm moved: 6 V for 0.3 s.
  assert.ok(a.truth.theta[29]! > 0.3, `theta after 0.3 s at 6 V: ${a.truth.theta[29]}`);
  const quiet = await simulateDataset({ rig, commands, current: false });
  assert.equal(quiet.current, undefined);
});

test("simulateDataset: the current follows I = (V_eff - km thetadot) / Rm with the hidden Rm, km and dead zone", async () => {
  const hidden = { Rm: 10, km: 0.05, deadZone: 0.25 };
  const ds = await simulateDataset({ rig, params: symbolsToTargets(rig, hidden), commands: new Float64Array(40).fill(3), current: { noise: 0, resolution: 1e-9 }, encoder: { noise: 0, countsPerRev: 0 } });
  for (const k of [1, 10, 39]) {
    const expected = (3 - 0.25 - 0.05 * ds.truth.thetaDot[k]!) / 10;
    assert.ok(Math.abs(ds.current![k]! - expected) < 1e-6, `current[${k}] = ${ds.current![k]}, expected ${expected}`);
  }
  // Before the first command the drive output 0 V.
  assert.equal(ds.current![0], 0);
});

test("simulateDataset: latency delays the response, the dead zone swallows small commands", async () => {
  const step = new Float64Array(20).fill(4);
  const prompt = await simulateDataset({ rig, commands: step, encoder: { noise: 0, countsPerRev: 0 } });
  const late = await simulateDataset({ rig, params: { "actuators.arm.latency": 0.02 }, commands: step, encoder: { noise: 0, countsPerRev: 0 } });
  assert.ok(prompt.truth.thetaDot[2]! > 1, `prompt arm speed at 20 ms: ${prompt.truth.thetaDot[2]}`);
  assert.ok(Math.abs(late.truth.thetaDot[2]!) < 1e-6, `a 20 ms latency must leave the arm still at 20 ms: ${late.truth.thetaDot[2]}`);
  assert.ok(late.truth.thetaDot[4]! > 1);

  const small = new Float64Array(30).fill(0.2);
  const dead = await simulateDataset({ rig, params: { "actuators.arm.deadZone": 0.3 }, commands: small, encoder: { noise: 0, countsPerRev: 0 } });
  const live = await simulateDataset({ rig, params: { "actuators.arm.deadZone": 0 }, commands: small, encoder: { noise: 0, countsPerRev: 0 } });
  assert.ok(Math.abs(dead.truth.theta[29]!) < 1e-6, `0.2 V inside a 0.3 V dead zone moved the arm to ${dead.truth.theta[29]}`);
  assert.ok(live.truth.theta[29]! > 0.01);
});

test("simulateDataset: a command source sees the measured angles; bad options are errors", async () => {
  const seen: number[] = [];
  await simulateDataset({
    rig,
    steps: 5,
    initial: { theta: 0.5 },
    commands: ({ theta }) => {
      seen.push(theta);
      return 0;
    },
  });
  assert.equal(seen.length, 5);
  assert.ok(Math.abs(seen[0]! - 0.5) < 4 * ENCODER_COUNT);
  await assert.rejects(simulateDataset({ rig, commands: () => 0 }), /steps must be an integer >= 2/);
  await assert.rejects(simulateDataset({ rig, commands: () => NaN, steps: 3 }), /returned NaN at step 0/);
  await assert.rejects(simulateDataset({ rig, commands: [1, 2, 3], physicsDt: 0.003 }), /physicsDt 0.003 must divide controlDt 0.01/);
});
