import test from "node:test";
import assert from "node:assert/strict";
import { RobotSim } from "../../sim/physics/robot-sim.js";
import { RobotBatch } from "../../sim/physics/robot-batch.js";
import { loadRobot } from "../../sim/robots/catalog.js";
import { cloneModel, type RobotModel } from "../../sim/urdf/model.js";
import { Rng } from "../../common/rng.js";

const OPTS = { dt: 0.002 };

/** A Furuta with joint friction, so the friction motors are part of the determinism checks. */
function furutaWithFriction(massScale = 1): RobotModel {
  const m = cloneModel(loadRobot("furuta"));
  m.joints[0]!.dynamics.friction = 0.004;
  m.joints[1]!.dynamics.friction = 1e-4;
  m.links[2]!.inertial!.mass *= massScale;
  return m;
}

/** Random-torque rollout; returns every state read, as numbers. */
function rollout(
  step: () => void,
  get: (q: Float64Array, qd: Float64Array) => void,
  set: (tau: number[]) => void,
  seed: number,
  steps: number,
): number[] {
  const rng = new Rng(seed);
  const q = new Float64Array(2), qd = new Float64Array(2);
  const out: number[] = [];
  for (let k = 0; k < steps; k++) {
    set([rng.uniform(-0.06, 0.06), 0]);
    step();
    get(q, qd);
    out.push(q[0]!, q[1]!, qd[0]!, qd[1]!);
  }
  return out;
}

function simRollout(sim: RobotSim, seed: number, steps: number): number[] {
  return rollout(() => sim.step(), (q, qd) => sim.getState(q, qd), (t) => sim.setJointTorques(t), seed, steps);
}

function assertIdentical(a: number[], b: number[], what: string): void {
  assert.equal(a.length, b.length, what);
  for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) assert.fail(`${what}: first difference at value ${k}: ${a[k]} vs ${b[k]}`);
}

test("same inputs give bit-identical trajectories", async () => {
  const a = await RobotSim.create(furutaWithFriction(), OPTS);
  const b = await RobotSim.create(furutaWithFriction(), OPTS);
  a.setState([0.1, 2.5], [0, 0]);
  b.setState([0.1, 2.5], [0, 0]);
  assertIdentical(simRollout(a, 7, 300), simRollout(b, 7, 300), "two runs");
  a.dispose();
  b.dispose();
});

test("a reset makes the following trajectory independent of history (limits hit, friction active)", async () => {
  const fresh = await RobotSim.create(furutaWithFriction(), OPTS);
  fresh.setState([0.1, 2.5], [0, 0]);
  const reference = simRollout(fresh, 7, 300);
  fresh.dispose();

  const used = await RobotSim.create(furutaWithFriction(), OPTS);
  used.setState([1.9, -1], [30, 10]); // slams into the +2 rad stop
  simRollout(used, 99, 400);
  used.setJointTorques([0.05, 0]);
  for (let k = 0; k < 600; k++) used.step(); // driven into the stop and held there
  assert.equal(used.limitContact(0), true);
  used.setState([0.1, 2.5], [0, 0]);
  assertIdentical(simRollout(used, 7, 300), reference, "after history");

  used.rebuild(furutaWithFriction(1.3));
  used.rebuild(furutaWithFriction());
  used.setState([0.1, 2.5], [0, 0]);
  assertIdentical(simRollout(used, 7, 300), reference, "after rebuilds");
  used.dispose();
});

test("a robot in a batch is bit-identical to the same robot alone, whatever its neighbours do", async () => {
  const scales = [1, 0.8, 1.2, 1.1, 0.9];
  const models = scales.map((s) => furutaWithFriction(s));
  const batch = await RobotBatch.create(models, OPTS);
  assert.equal(batch.count, 5);
  const rngs = scales.map((_, i) => new Rng(100 + i));
  for (let i = 0; i < batch.count; i++) batch.setState(i, [0.3 * i - 0.6, 0.5 * i], [0, 0]);
  const recorded: number[][] = scales.map(() => []);
  const q = new Float64Array(2 * batch.count), qd = new Float64Array(2 * batch.count), tau = new Float64Array(2 * batch.count);
  for (let k = 0; k < 250; k++) {
    for (let i = 0; i < batch.count; i++) tau[2 * i] = rngs[i]!.uniform(-0.06, 0.06);
    batch.setAllJointTorques(tau);
    batch.step();
    batch.getStates(q, qd);
    for (let i = 0; i < batch.count; i++) recorded[i]!.push(q[2 * i]!, q[2 * i + 1]!, qd[2 * i]!, qd[2 * i + 1]!);
  }
  for (const i of [0, 3]) {
    const alone = await RobotSim.create(models[i]!, OPTS);
    alone.setState([0.3 * i - 0.6, 0.5 * i], [0, 0]);
    assertIdentical(simRollout(alone, 100 + i, 250), recorded[i]!, `robot ${i}`);
    alone.dispose();
  }
  // Per-robot and bulk accessors agree.
  const one = new Float64Array(2), oneD = new Float64Array(2);
  batch.getState(2, one, oneD);
  assert.deepEqual([...one, ...oneD], [q[4], q[5], qd[4], qd[5]]);
  batch.dispose();
});

test("batch rebuild replaces one robot and leaves the others untouched", async () => {
  const batch = await RobotBatch.create(furutaWithFriction(), { ...OPTS, count: 3 });
  const stats = batch.engineStats();
  batch.setStates([0, 1], [0, 0]);
  batch.rebuild(1, furutaWithFriction(1.5));
  assert.deepEqual(batch.engineStats(), stats);
  batch.setState(1, [0, 1], [0, 0]);
  for (let k = 0; k < 100; k++) batch.step();
  const a = new Float64Array(2), b = new Float64Array(2), c = new Float64Array(2), v = new Float64Array(2);
  batch.getState(0, a, v);
  batch.getState(1, b, v);
  batch.getState(2, c, v);
  assert.deepEqual(a, c);
  assert.notDeepEqual(a, b);
  assert.equal(batch.model(1).links[2]!.inertial!.mass, 0.024 * 1.5);
  assert.throws(() => batch.rebuild(0, loadRobot("pendulum")), /differ from the batch's/);
  assert.throws(() => batch.getState(3, a, v), /robot index 3 out of range 0\.\.2/);
  assert.throws(() => batch.setAllJointTorques([0, 0]), /expected 6 values/);
  batch.dispose();
  assert.throws(() => batch.step(), /used after dispose/);
});

test("a batch needs robots of one structure", async () => {
  await assert.rejects(RobotBatch.create([loadRobot("furuta"), loadRobot("pendulum")], OPTS), /differ from the batch's/);
});
