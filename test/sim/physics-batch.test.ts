import test from "node:test";
import assert from "node:assert/strict";
import { RobotSim } from "../../sim/physics/robot-sim.js";
import { RobotBatch } from "../../sim/physics/robot-batch.js";
import { loadRobot } from "../../sim/robots/catalog.js";
import { cloneModel, type RobotModel } from "../../sim/urdf/model.js";
import { Rng } from "../../common/rng.js";
import { singleLink } from "./physics-models.js";

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

test("per-robot gravity: each robot of a batch falls with its own g (a scale of the world's), kept across rebuild", async () => {
  const m = 0.5, l = 0.1, icom = 0.002, Ip = icom + m * l * l;
  const gs = [9.81 * 0.8, 9.81, 9.81 * 1.2];
  const batch = await RobotBatch.create(singleLink({ m, l, icom }), { dt: 0.001, count: 3 });
  gs.forEach((g, i) => batch.setRobotGravity(i, [0, 0, -g]));
  assert.deepEqual(batch.robotGravity(2).map((x) => Number(x.toFixed(9))), [0, 0, -Number((9.81 * 1.2).toFixed(9))]);
  // Horizontal rod at rest: initial angular acceleration -m g l / Ip, per robot.
  batch.setStates([Math.PI / 2], [0]);
  batch.step();
  const q = new Float64Array(3), qd = new Float64Array(3);
  batch.getStates(q, qd);
  gs.forEach((g, i) => assert.ok(Math.abs(qd[i]! / 0.001 + (m * g * l) / Ip) < 0.01 * (m * g * l) / Ip, `robot ${i}: ${qd[i]! / 0.001} vs ${(-m * g * l) / Ip}`));
  assert.ok(qd[0]! > qd[1]! && qd[1]! > qd[2]!, "stronger gravity, faster fall");
  // A rebuilt robot keeps its gravity.
  batch.rebuild(2, singleLink({ m, l, icom }));
  batch.setState(2, [Math.PI / 2], [0]);
  batch.setState(1, [Math.PI / 2], [0]);
  batch.step();
  batch.getStates(q, qd);
  assert.ok(Math.abs(qd[2]! / qd[1]! - 1.2) < 1e-3, `rebuilt robot still at 1.2 g (${qd[2]! / qd[1]!})`);
  assert.throws(() => batch.setRobotGravity(0, [1, 0, -9.81]), /robot 0: gravity \[1, 0, -9\.81\] is not along the world gravity/);
  assert.throws(() => batch.setRobotGravity(0, [0, 0, NaN]), /robot gravity must be three finite numbers/);
  batch.dispose();
});

test("a robot with its own gravity in a batch is bit-identical to the same robot alone with that gravity scale", async () => {
  const models = [furutaWithFriction(1), furutaWithFriction(1.1), furutaWithFriction(0.9)];
  const gs = [9.81 * 0.85, 9.81 * 1.15, 9.81];
  const batch = await RobotBatch.create(models, OPTS);
  gs.forEach((g, i) => batch.setRobotGravity(i, [0, 0, -g]));
  const rngs = gs.map((_, i) => new Rng(40 + i));
  for (let i = 0; i < 3; i++) batch.setState(i, [0.2, 2 - 0.3 * i], [0, 0]);
  const recorded: number[][] = gs.map(() => []);
  const q = new Float64Array(6), qd = new Float64Array(6), tau = new Float64Array(6);
  for (let k = 0; k < 200; k++) {
    for (let i = 0; i < 3; i++) tau[2 * i] = rngs[i]!.uniform(-0.06, 0.06);
    batch.setAllJointTorques(tau);
    batch.step();
    batch.getStates(q, qd);
    for (let i = 0; i < 3; i++) recorded[i]!.push(q[2 * i]!, q[2 * i + 1]!, qd[2 * i]!, qd[2 * i + 1]!);
  }
  batch.dispose();
  const i = 1;
  const alone = await RobotBatch.create(models[i]!, OPTS);
  alone.setRobotGravity(0, [0, 0, -gs[i]!]);
  alone.setState(0, [0.2, 2 - 0.3 * i], [0, 0]);
  const rng = new Rng(40 + i);
  const out: number[] = [];
  const a = new Float64Array(2), b = new Float64Array(2);
  for (let k = 0; k < 200; k++) {
    alone.setJointTorques(0, [rng.uniform(-0.06, 0.06), 0]);
    alone.step();
    alone.getState(0, a, b);
    out.push(a[0]!, a[1]!, b[0]!, b[1]!);
  }
  alone.dispose();
  assertIdentical(out, recorded[i]!, "robot 1 with 1.15 g");
});

test("viscous damping over 5 ms steps decays like exp(-D t / I): efforts use the predicted mid-step velocity", async () => {
  // D dt / I = 0.05 per step: the step-start velocity would give 0.95^100 = 0.0059 of the
  // speed after 0.5 s instead of exp(-5) = 0.0067 (12 % off).
  const I = 0.002, D = (0.05 * I) / 0.005;
  const batch = await RobotBatch.create(singleLink({ m: 0.5, l: 0, icom: I, damping: D }), { dt: 0.005, substep: 0.0002, gravity: [0, 0, 0] });
  batch.setState(0, [0], [10]);
  const q = new Float64Array(1), qd = new Float64Array(1), mid = new Float64Array(1);
  batch.midStepVelocities(0, mid);
  assert.equal(mid[0], 10, "no prediction right after a reset");
  for (let k = 0; k < 100; k++) batch.step();
  batch.getState(0, q, qd);
  const exact = 10 * Math.exp((-D / I) * 0.5);
  assert.ok(Math.abs(qd[0]! / exact - 1) < 0.01, `speed ${qd[0]} vs exp decay ${exact}`);
  batch.midStepVelocities(0, mid);
  assert.ok(mid[0]! < qd[0]! && mid[0]! > qd[0]! * (1 - 0.05), `mid-step speed ${mid[0]} a little below ${qd[0]}`);
  batch.dispose();
});
