import test from "node:test";
import assert from "node:assert/strict";
import { FURUTA_NOMINAL, integrateFuruta, furutaDerivatives, motorTorque, type FurutaParams, type FurutaTrace } from "../../sim/tasks/furuta/analytic.js";
import { loadRobot } from "../../sim/robots/catalog.js";
import { cloneModel } from "../../sim/urdf/model.js";
import { traceFurutaRapier, FURUTA_PHYSICS_DT, furutaTrainingPhysics } from "../../sim/tasks/furuta/trace.js";
import { furutaConfigSchema } from "../../sim/tasks/furuta/config.js";
import { RobotSim } from "../../sim/physics/robot-sim.js";
import { singleLink } from "./physics-models.js";

/** Largest |difference| in theta and in alpha between two traces sampled at the same times. */
function worstError(a: FurutaTrace, b: FurutaTrace): { theta: number; alpha: number; at: number } {
  assert.equal(a.t.length, b.t.length);
  let theta = 0, alpha = 0, at = 0;
  for (let k = 0; k < a.t.length; k++) {
    close(a.t[k]!, b.t[k]!, 1e-9);
    const e = Math.max(Math.abs(a.theta[k]! - b.theta[k]!), Math.abs(a.alpha[k]! - b.alpha[k]!));
    if (e > Math.max(theta, alpha)) at = a.t[k]!;
    theta = Math.max(theta, Math.abs(a.theta[k]! - b.theta[k]!));
    alpha = Math.max(alpha, Math.abs(a.alpha[k]! - b.alpha[k]!));
  }
  return { theta, alpha, at };
}

function close(a: number, b: number, tol: number, what = ""): void {
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tol ${tol})`);
}

/** Mechanical energy of the analytic model (see the Lagrangian in analytic.ts). */
function energy(p: Required<FurutaParams>, x: readonly number[]): number {
  const [, al, thd, ald] = x as [number, number, number, number];
  const s = Math.sin(al), c = Math.cos(al), l = p.Lp / 2;
  const m11 = p.Jr + p.mp * p.Lr * p.Lr + p.Jp * s * s + p.Ia * c * c;
  return 0.5 * m11 * thd * thd + p.mp * p.Lr * l * c * thd * ald + 0.5 * p.Jp * ald * ald - p.mp * p.g * l * c;
}

const CASES = [
  { alpha0: 0.5, volts: 0, duration: 2, tol: 0.01 },
  { alpha0: 0, volts: 0.5, duration: 0.6, tol: 0.01 },
  { alpha0: 2.8, volts: 0, duration: 1, tol: 0.02 },
];

test("analytic model: RK4 converges (halving the step changes nothing that matters)", () => {
  for (const c of CASES) {
    const coarse = integrateFuruta(FURUTA_NOMINAL, [0, c.alpha0, 0, 0], c.volts, c.duration, 0.005, { maxStep: 1e-4 });
    const fine = integrateFuruta(FURUTA_NOMINAL, [0, c.alpha0, 0, 0], c.volts, c.duration, 0.005, { maxStep: 5e-5 });
    const e = worstError(coarse, fine);
    assert.ok(Math.max(e.theta, e.alpha) < 1e-8, `alpha0=${c.alpha0}: step-halving difference ${JSON.stringify(e)}`);
  }
});

test("analytic model conserves energy without damping or motor, and its damping only removes energy", () => {
  const free: Required<FurutaParams> = { ...FURUTA_NOMINAL, Dr: 0, Dp: 0, km: 0 };
  const x0 = [0, 2.5, 8, -3];
  const tr = integrateFuruta(free, x0, 0, 2, 0.01);
  const e0 = energy(free, x0);
  for (let k = 0; k < tr.t.length; k++) close(energy(free, [tr.theta[k]!, tr.alpha[k]!, tr.thetadot[k]!, tr.alphadot[k]!]), e0, 1e-9, `energy at t=${tr.t[k]}`);
  const damped = integrateFuruta(FURUTA_NOMINAL, x0, 0, 2, 0.01);
  let prev = Infinity;
  for (let k = 0; k < damped.t.length; k++) {
    const e = energy(FURUTA_NOMINAL, [damped.theta[k]!, damped.alpha[k]!, damped.thetadot[k]!, damped.alphadot[k]!]);
    assert.ok(e <= prev + 1e-12, `energy rises at t=${damped.t[k]}`);
    prev = e;
  }
  // Sanity of the signs: hanging pendulum, arm pushed by +V: the arm accelerates positively.
  const d = new Float64Array(4);
  furutaDerivatives(FURUTA_NOMINAL, [0, 0, 0, 0], 1, d);
  assert.ok(d[2]! > 0 && d[3]! < 0, `arm forward, pendulum swings back (${d[2]}, ${d[3]})`);
});

/** The settings the Furuta task trains with: every check below uses them, so it checks the training simulator. */
const TRAINING = furutaTrainingPhysics();

test("the fidelity checks simulate with the Furuta task's own physics settings", () => {
  const cfg = furutaConfigSchema.defaults();
  assert.deepEqual(TRAINING, { dt: cfg.physicsDt, substep: cfg.physicsSubstep });
  assert.equal(FURUTA_PHYSICS_DT, cfg.physicsDt);
});

for (const c of CASES) {
  test(`Rapier matches the analytic Furuta within ${c.tol} rad: alpha0=${c.alpha0}, V=${c.volts}, ${c.duration} s`, async (t) => {
    const sim = await traceFurutaRapier({ duration: c.duration, alpha0: c.alpha0, volts: c.volts });
    const ref = integrateFuruta(FURUTA_NOMINAL, [0, c.alpha0, 0, 0], c.volts, c.duration, FURUTA_PHYSICS_DT);
    const e = worstError(sim, ref);
    t.diagnostic(`dt ${FURUTA_PHYSICS_DT * 1000} ms, substep ${TRAINING.substep * 1000} ms: worst |dtheta| ${e.theta.toExponential(2)}, |dalpha| ${e.alpha.toExponential(2)} (at t=${e.at.toFixed(3)} s)`);
    assert.ok(e.theta <= c.tol && e.alpha <= c.tol, `worst errors theta ${e.theta}, alpha ${e.alpha} exceed ${c.tol}`);
  });
}

test("Rapier matches the analytic Furuta with the arm spinning (centrifugal and gyroscopic coupling)", async (t) => {
  // The analytic model has no hard stops, so widen them for this one.
  const model = cloneModel(loadRobot("furuta"));
  model.joints[0]!.limit = { ...model.joints[0]!.limit!, lower: -100, upper: 100 };
  const sim = await RobotSim.create(model, TRAINING);
  const x0 = [0, 1.0, 8, -4];
  const duration = 0.6;
  const ref = integrateFuruta(FURUTA_NOMINAL, x0, 0, duration, FURUTA_PHYSICS_DT);
  const q = Float64Array.from(x0.slice(0, 2)), qd = Float64Array.from(x0.slice(2)), mid = new Float64Array(2);
  sim.setState(q, qd);
  let eTheta = 0, eAlpha = 0;
  for (let k = 0; k < ref.t.length; k++) {
    sim.getState(q, qd);
    eTheta = Math.max(eTheta, Math.abs(q[0]! - ref.theta[k]!));
    eAlpha = Math.max(eAlpha, Math.abs(q[1]! - ref.alpha[k]!));
    // Back-EMF at the predicted mid-step arm speed, as RobotPlant evaluates it.
    sim.midStepVelocities(mid);
    sim.setJointTorques([motorTorque(FURUTA_NOMINAL, 0, mid[0]!), 0]);
    sim.step();
  }
  sim.dispose();
  assert.ok(ref.theta[ref.t.length - 1]! > 3, "the arm really spins (over 3 rad)");
  t.diagnostic(`worst |dtheta| ${eTheta.toExponential(2)}, |dalpha| ${eAlpha.toExponential(2)}`);
  assert.ok(eTheta <= 0.01 && eAlpha <= 0.01, `theta ${eTheta}, alpha ${eAlpha}`);
});

test("the substep sets Rapier's numerical energy loss: a spinning link keeps 97 % of its speed over 1 s at 0.1 ms, not at 1 ms", async (t) => {
  // No damping, no gravity: the speed should stay at 25 rad/s. Rapier's
  // velocity-level joint constraint sheds energy each substep (the circling
  // centre of mass is re-projected onto the new tangent), about -h w^3 / 2.
  const speedAfter = async (substep: number) => {
    const sim = await RobotSim.create(singleLink(), { dt: 0.002, substep, gravity: [0, 0, 0] });
    const q = new Float64Array(1), qd = new Float64Array(1);
    sim.setState([0], [25]);
    for (let k = 0; k < 500; k++) sim.step();
    sim.getState(q, qd);
    sim.dispose();
    return qd[0]!;
  };
  const fine = await speedAfter(1e-4);
  const coarse = await speedAfter(1e-3);
  t.diagnostic(`speed after 1 s from 25 rad/s: ${fine.toFixed(3)} (0.1 ms substeps), ${coarse.toFixed(3)} (1 ms)`);
  assert.ok(fine > 25 * 0.97, `0.1 ms substeps keep 97 % of the speed (${fine})`);
  assert.ok(coarse < 25 * 0.9, `1 ms substeps lose over 10 % (${coarse}): if this fails Rapier changed, revisit DEFAULT_SUBSTEP`);
});

test("energy of a long undamped swing at the training settings drifts by under 8 % in 10 s", async (t) => {
  // Rapier's two first-order errors have opposite signs: its velocity-level joints lose
  // energy in proportion to the substep, and it freezes each body's world inertia over a
  // physics step, which gains energy in proportion to the step. At 5 ms x 0.2 ms they
  // nearly cancel on a swinging pendulum (this test); with the arm spinning fast the gain
  // wins (about +7 %/s, against the arm's physical damping of some 300 %/s of its energy),
  // which is most of the spinning-arm error above.
  const model = cloneModel(loadRobot("furuta"));
  model.joints[0]!.limit = { ...model.joints[0]!.limit!, lower: -1e4, upper: 1e4 };
  for (const j of model.joints) if (j.dynamics) j.dynamics.damping = 0;
  const free: Required<FurutaParams> = { ...FURUTA_NOMINAL, Dr: 0, Dp: 0, km: 0 };
  for (const alpha0 of [1.0, 2.8]) {
    const sim = await RobotSim.create(model, TRAINING);
    const q = Float64Array.of(0, alpha0), qd = new Float64Array(2);
    sim.setState(q, qd);
    const e0 = energy(free, [0, alpha0, 0, 0]);
    let worst = 0;
    for (let k = 1; k <= Math.round(10 / TRAINING.dt); k++) {
      sim.step();
      sim.getState(q, qd);
      worst = Math.max(worst, Math.abs(energy(free, [q[0]!, q[1]!, qd[0]!, qd[1]!]) - e0) / Math.abs(e0));
    }
    sim.dispose();
    t.diagnostic(`alpha0 = ${alpha0}: worst energy error over 10 s ${(100 * worst).toFixed(2)} %`);
    assert.ok(worst < 0.08, `alpha0 = ${alpha0}: energy off by ${(100 * worst).toFixed(2)} %`);
  }
});
