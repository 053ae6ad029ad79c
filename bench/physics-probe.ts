/**
 * Physics-layer speed probe: Furuta physics steps per second on one core, one
 * robot per Rapier world vs. many robots in one world, at the settings that
 * pass the fidelity test and at cheaper ones, plus the cost of Rapier's step
 * alone (no JS effort/state work) for the same world. Prints one JSON object.
 *
 *   node <build>/bench/physics-probe.js [--quick]
 *
 * Every robot gets the actuator pattern the env uses: per physics step, read
 * the state, set the motor torque from the arm speed, step.
 */
import { RobotBatch } from "../sim/physics/robot-batch.js";
import { loadRapier } from "../sim/physics/rapier.js";
import { loadRobot } from "../sim/robots/catalog.js";
import { FURUTA_NOMINAL, motorTorque } from "../sim/tasks/furuta/analytic.js";

interface Setting {
  name: string;
  dt: number;
  solverIterations: number;
}

const SETTINGS: Setting[] = [
  // The Furuta task's training setting (its config defaults): 0.2 ms substeps, errors 0.07 / 0.03 / 0.47
  // of the three fidelity tolerances (test/sim/fidelity.test.ts).
  { name: "training_5ms_x25", dt: 0.005, solverIterations: 25 },
  // 0.1 ms substeps at dt = 2 ms: errors 0.03 / 0.02 / 0.20 of tolerance at twice the solver work.
  { name: "fine_2ms_x20", dt: 0.002, solverIterations: 20 },
  // The former task default (1 ms x 10): same solver work as fine_2ms_x20, five times the per-step overhead.
  { name: "dt1ms_x10", dt: 0.001, solverIterations: 10 },
  // One substep per 1 ms step: fast, fails the alpha0 = 2.8 case by 17x and damps fast spins.
  { name: "fast_1ms_x1", dt: 0.001, solverIterations: 1 },
];

async function measure(setting: Setting, count: number, seconds: number): Promise<{ robotStepsPerSec: number; simSecondsPerSec: number }> {
  const model = loadRobot("furuta");
  const batch = await RobotBatch.create(model, { dt: setting.dt, solverIterations: setting.solverIterations, count });
  const q = new Float64Array(count * 2), qd = new Float64Array(count * 2), tau = new Float64Array(count * 2);
  for (let i = 0; i < count; i++) batch.setState(i, [0, 0.5 + 0.01 * i], [0, 0]);
  const stepOnce = () => {
    batch.getStates(q, qd);
    for (let i = 0; i < count; i++) tau[2 * i] = motorTorque(FURUTA_NOMINAL, 1.5 * Math.sin(q[2 * i + 1]!), qd[2 * i]!);
    batch.setAllJointTorques(tau);
    batch.step();
  };
  for (let k = 0; k < 50; k++) stepOnce(); // JIT and Rapier warm-up
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (let k = 0; k < 20; k++) stepOnce();
    steps += 20;
  }
  const wall = (performance.now() - t0) / 1000;
  batch.dispose();
  const robotStepsPerSec = (steps * count) / wall;
  return { robotStepsPerSec, simSecondsPerSec: robotStepsPerSec * setting.dt };
}

/** Rapier's own step for `count` Furutas (built like RobotBatch builds them), without any JS-side effort or state work. */
async function rapierOnly(setting: Setting, count: number, seconds: number): Promise<number> {
  const R = await loadRapier();
  const world = new R.World({ x: 0, y: 0, z: -9.81 });
  world.timestep = setting.dt;
  world.numSolverIterations = setting.solverIterations;
  const Lr = 0.085, izz = 2.3e-4 - 0.095 * (Lr / 2) ** 2;
  for (let i = 0; i < count; i++) {
    const base = world.createRigidBody(R.RigidBodyDesc.fixed());
    const arm = world.createRigidBody(
      R.RigidBodyDesc.dynamic().setCanSleep(false).setAdditionalMassProperties(0.095, { x: Lr / 2, y: 0, z: 0 }, { x: 1e-5, y: izz, z: izz }, { x: 0, y: 0, z: 0, w: 1 }),
    );
    const pend = world.createRigidBody(
      R.RigidBodyDesc.dynamic()
        .setCanSleep(false)
        .setTranslation(Lr, 0, 0)
        .setAdditionalMassProperties(0.024, { x: 0, y: 0, z: -0.0645 }, { x: 3.3378e-5, y: 3.3378e-5, z: 1.92e-7 }, { x: 0, y: 0, z: 0, w: 1 }),
    );
    const j1 = world.createImpulseJoint(R.JointData.revolute({ x: 0, y: 0, z: 0 }, { x: 0, y: 0, z: 0 }, { x: 0, y: 0, z: 1 }), base, arm, true);
    (j1 as InstanceType<typeof R.RevoluteImpulseJoint>).setLimits(-2, 2);
    world.createImpulseJoint(R.JointData.revolute({ x: Lr, y: 0, z: 0 }, { x: 0, y: 0, z: 0 }, { x: 1, y: 0, z: 0 }), arm, pend, true);
    pend.setAngvel({ x: 3, y: 0, z: 0 }, true);
  }
  const g = R.VectorOps.intoRaw({ x: 0, y: 0, z: -9.81 });
  const p = world.physicsPipeline.raw;
  const w = world;
  const step = () =>
    p.step(g, w.integrationParameters.raw, w.islands.raw, w.broadPhase.raw, w.narrowPhase.raw, w.bodies.raw, w.colliders.raw,
      w.impulseJoints.raw, w.multibodyJoints.raw, w.ccdSolver.raw);
  for (let k = 0; k < 50; k++) step();
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    for (let k = 0; k < 20; k++) step();
    steps += 20;
  }
  const wall = (performance.now() - t0) / 1000;
  g.free();
  world.free();
  return (steps * count) / wall;
}

export async function benchPhysics(opts: { quick: boolean; log: (line: string) => void }): Promise<Record<string, number>> {
  const seconds = opts.quick ? 0.3 : 1;
  const out: Record<string, number> = {};
  // V8 first runs WebAssembly with its baseline compiler and optimizes hot
  // functions later; measure only after that has happened.
  await measure(SETTINGS[0]!, 8, opts.quick ? 1 : 3);
  for (const s of SETTINGS) {
    for (const count of [1, 8, 32, 128]) {
      if (opts.quick && count === 128) continue;
      const r = await measure(s, count, seconds);
      const key = `${s.name}_K${count}`;
      out[`${key}_robotPhysicsStepsPerSec`] = Math.round(r.robotStepsPerSec);
      out[`${key}_robotSubstepsPerSec`] = Math.round(r.robotStepsPerSec * s.solverIterations);
      // At 100 Hz control a control step is 10 ms of simulated time.
      out[`${key}_controlStepsPerSec100Hz`] = Math.round(r.simSecondsPerSec * 100);
      opts.log(`${key}: ${Math.round(r.robotStepsPerSec)} robot physics steps/s, ${Math.round(r.simSecondsPerSec * 100)} control steps/s at 100 Hz`);
    }
    for (const count of opts.quick ? [32] : [32, 128]) {
      const raw = await rapierOnly(s, count, seconds);
      out[`${s.name}_K${count}_rapierStepOnly_robotPhysicsStepsPerSec`] = Math.round(raw);
    }
  }
  return out;
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/").split("/").pop()!);
if (isMain) {
  const quick = process.argv.includes("--quick");
  benchPhysics({ quick, log: (l) => process.stderr.write(l + "\n") }).then((r) => process.stdout.write(JSON.stringify(r, null, 2) + "\n"));
}
