import test from "node:test";
import assert from "node:assert/strict";
import { RobotSim } from "../../sim/physics/robot-sim.js";
import { loadRapier } from "../../sim/physics/rapier.js";
import { compileLayout, forwardKinematics, bodyPoint } from "../../sim/physics/layout.js";
import { principalInertia, rotateSym3, inertiaProblem } from "../../sim/physics/inertia.js";
import { quatFromRpy, rotate, quatAlignXTo, twistAngle, quatFromAxisAngle, type Vec3 } from "../../sim/physics/math.js";
import { loadRobot } from "../../sim/robots/catalog.js";
import { cloneModel } from "../../sim/urdf/model.js";
import { UrdfError } from "../../sim/urdf/errors.js";
import { cartPole, joint, link, robot, singleLink } from "./physics-models.js";

const close = (a: number, b: number, tol: number, what = "") =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tol ${tol})`);
const closeVec = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what = "") => Array.from(a).forEach((v, i) => close(v, b[i]!, tol, `${what}[${i}]`));

test("rpy is fixed-axis roll, pitch, yaw (R = Rz Ry Rx); X is aligned onto joint axes", () => {
  closeVec(rotate(quatFromRpy([0, 0, Math.PI / 2]), [1, 0, 0]), [0, 1, 0], 1e-12);
  closeVec(rotate(quatFromRpy([Math.PI / 2, 0, 0]), [0, 1, 0]), [0, 0, 1], 1e-12);
  // roll first, then yaw, both about the fixed axes: x -> x -> y, y -> z -> z
  const q = quatFromRpy([Math.PI / 2, 0, Math.PI / 2]);
  closeVec(rotate(q, [1, 0, 0]), [0, 1, 0], 1e-12);
  closeVec(rotate(q, [0, 1, 0]), [0, 0, 1], 1e-12);
  for (const axis of [[1, 0, 0], [0, 0, 1], [-1, 0, 0], [0.6, -0.8, 0]] as Vec3[]) closeVec(rotate(quatAlignXTo(axis), [1, 0, 0]), axis, 1e-12);
  close(twistAngle(quatFromAxisAngle([0, 1, 0], 2.5), [0, 1, 0]), 2.5, 1e-12);
  close(twistAngle(quatFromAxisAngle([0, 1, 0], 4), [0, 1, 0]), 4 - 2 * Math.PI, 1e-12);
});

test("principal axes reconstruct the inertia tensor; physical checks", () => {
  const I = { ixx: 0.03, ixy: 0.004, ixz: -0.002, iyy: 0.02, iyz: 0.003, izz: 0.025 };
  const { moments, frame } = principalInertia(I);
  const back = rotateSym3({ ixx: moments[0], ixy: 0, ixz: 0, iyy: moments[1], iyz: 0, izz: moments[2] }, frame);
  for (const k of ["ixx", "ixy", "ixz", "iyy", "iyz", "izz"] as const) close(back[k], I[k], 1e-12, k);
  assert.equal(inertiaProblem(I), undefined);
  assert.match(inertiaProblem({ ...I, izz: 0.08 })!, /triangle/);
  assert.match(inertiaProblem({ ...I, ixy: 0.1 })!, /positive-definite/);
});

test("layout merges links joined by fixed joints, combining mass, centre of mass and inertia", () => {
  // b hangs off a by a fixed joint, yawed 90°; its centre of mass lands on a's origin.
  const m = robot(
    "merge",
    [link("base"), link("a", 1, [0.1, 0, 0], [0.01, 0.02, 0.03]), link("b", 2, [0, 0.2, 0], [0.01, 0.02, 0.03])],
    [joint("j", "revolute", "base", "a", { axis: [0, 0, 1], limit: [-1, 1] }), joint("fix", "fixed", "a", "b", { xyz: [0.2, 0, 0], rpy: [0, 0, Math.PI / 2] })],
  );
  const layout = compileLayout(m);
  assert.equal(layout.bodies.length, 2);
  const body = layout.bodies[1]!;
  assert.deepEqual(body.links, ["a", "b"]);
  close(body.mass, 3, 1e-15);
  const cx = 0.1 / 3;
  closeVec(body.com, [cx, 0, 0], 1e-12, "com");
  // b's tensor turns with the yaw (x and y swap); then the parallel-axis terms.
  const da = 0.1 - cx, db = -cx;
  close(body.inertia.ixx, 0.01 + 0.02, 1e-12, "ixx");
  close(body.inertia.iyy, 0.02 + 0.01 + 1 * da * da + 2 * db * db, 1e-12, "iyy");
  close(body.inertia.izz, 0.03 + 0.03 + 1 * da * da + 2 * db * db, 1e-12, "izz");
  close(body.inertia.ixy, 0, 1e-12, "ixy");
});

test("a link moved by a joint without mass is a clear error", () => {
  const m = robot("massless", [link("base"), link("ghost")], [joint("j", "continuous", "base", "ghost")]);
  assert.throws(() => compileLayout(m), (e: unknown) => e instanceof UrdfError && /link "ghost": is moved by joint "j" but has no mass/.test(e.message));
});

test("Furuta forward kinematics follow the documented sign conventions", () => {
  const layout = compileLayout(loadRobot("furuta"));
  // theta = +90° turns the arm from +x to +y (counter-clockwise from above);
  // alpha = +90° swings the pendulum to the arm frame's +y, here world -x.
  const motion = forwardKinematics(layout, [Math.PI / 2, Math.PI / 2], [0, 0]);
  closeVec(motion[2]!.pose.pos, [0, 0.085, 0], 1e-12, "pivot");
  closeVec(bodyPoint(motion[2]!, [0, 0, -0.0645]), [-0.0645, 0.085, 0], 1e-12, "pendulum com");
  // alpha = pi: upright
  const up = forwardKinematics(layout, [0, Math.PI], [0, 0]);
  closeVec(bodyPoint(up[2]!, [0, 0, -0.129]), [0.085, 0, 0.129], 1e-12, "tip upright");
  // velocities: arm spinning at 1 rad/s moves the pivot along +y at Lr m/s
  const spin = forwardKinematics(layout, [0, 0], [1, 0]);
  closeVec(spin[2]!.vOrigin, [0, 0.085, 0], 1e-12, "pivot velocity");
});

test("setState then getState returns the same q and qd (revolute, continuous, prismatic)", async () => {
  const furuta = await RobotSim.create(loadRobot("furuta"), { dt: 0.001 });
  const q = new Float64Array(2), qd = new Float64Array(2);
  for (const [q0, qd0] of [[[0, 0], [0, 0]], [[1.2, 7.0], [-3, 12]], [[-1.9, -3.1], [0.5, -40]], [[0.3, 13.5], [2, 1]]] as const) {
    furuta.setState(q0, qd0);
    furuta.getState(q, qd);
    closeVec(q, q0, 1e-5, "q");
    closeVec(qd, qd0, 2e-5 * Math.max(1, ...qd0.map(Math.abs)), "qd");
  }
  furuta.dispose();
  const cp = await RobotSim.create(cartPole(), { dt: 0.001 });
  const q2 = new Float64Array(2), qd2 = new Float64Array(2);
  for (const [q0, qd0] of [[[0.5, 1], [-0.7, 3]], [[-1.5, -2.5], [2, -6]]] as const) {
    cp.setState(q0, qd0);
    cp.getState(q2, qd2);
    closeVec(q2, q0, 1e-5, "cartpole q");
    closeVec(qd2, qd0, 1e-4, "cartpole qd");
  }
  cp.dispose();
});

test("a joint torque gives the closed-form angular acceleration; gravity gives -m g l sin q / I", async () => {
  const m = 0.5, l = 0.1, icom = 0.002, Ip = icom + m * l * l;
  const sim = await RobotSim.create(singleLink({ m, l, icom }), { dt: 0.001, gravity: [0, 0, 0] });
  const q = new Float64Array(1), qd = new Float64Array(1);
  const tau = 0.014; // 2 rad/s² about the pivot
  sim.setJointTorques([tau]);
  for (let k = 0; k < 500; k++) sim.step();
  sim.getState(q, qd);
  close(qd[0]!, (tau / Ip) * 0.5, 1e-4, "qd after 0.5 s");
  close(q[0]!, 0.5 * (tau / Ip) * 0.25, 2e-3, "q after 0.5 s");
  // Gravity on, horizontal rod, no torque: initial acceleration -m g l / Ip.
  sim.setGravity([0, 0, -9.81]);
  sim.setJointTorques([0]);
  sim.setState([Math.PI / 2], [0]);
  sim.step();
  sim.getState(q, qd);
  close(qd[0]! / 0.001, (-m * 9.81 * l) / Ip, 0.005 * (m * 9.81 * l) / Ip, "initial angular acceleration");
  sim.dispose();
});

test("a prismatic effort gives F/m along the axis, plus gravity's component", async () => {
  const slider = robot("slider", [link("base"), link("block", 2, [0.05, 0.02, 0], [0.01, 0.01, 0.01])], [
    joint("rail", "prismatic", "base", "block", { axis: [0.6, 0.8, 0], xyz: [0, 0, 0.1], limit: [-5, 5] }),
  ]);
  const sim = await RobotSim.create(slider, { dt: 0.001, gravity: [0, -2, -9.81] });
  const q = new Float64Array(1), qd = new Float64Array(1);
  sim.setJointTorques([3]); // 3 N / 2 kg = 1.5 m/s², gravity along the axis: -2 * 0.8 = -1.6 m/s²
  for (let k = 0; k < 400; k++) sim.step();
  sim.getState(q, qd);
  close(qd[0]!, (1.5 - 1.6) * 0.4, 1e-4, "speed along the rail");
  close(q[0]!, 0.5 * (1.5 - 1.6) * 0.16, 1e-4, "position along the rail");
  // Pushed harder from near the end of the rail, it stops at the upper limit.
  sim.setState([4.8], [1]);
  sim.setJointTorques([10]);
  for (let k = 0; k < 500; k++) sim.step();
  sim.getState(q, qd);
  close(q[0]!, 5, 0.005, "at the rail's upper limit");
  assert.equal(sim.limitContact(0), true);
  sim.dispose();
});

test("joint efforts act equally and oppositely on child and parent (angular momentum stays zero)", async () => {
  // Two coaxial links on vertical continuous joints; only the second is driven.
  const m = robot(
    "coaxial",
    [link("base"), link("a", 1, [0.1, 0, 0], [1e-3, 1e-3, 2e-3]), link("b", 0.5, [0.05, 0, 0], [3e-4, 3e-4, 5e-4])],
    [joint("ja", "continuous", "base", "a", { axis: [0, 0, 1] }), joint("jb", "continuous", "a", "b", { axis: [0, 0, 1], xyz: [0.2, 0, 0] })],
  );
  const sim = await RobotSim.create(m, { dt: 0.001, gravity: [0, 0, 0], solverIterations: 10 });
  const q = new Float64Array(2), qd = new Float64Array(2);
  sim.setJointTorques([0, 0.01]);
  for (let k = 0; k < 200; k++) sim.step();
  sim.getState(q, qd);
  assert.ok(qd[1]! > 1, `driven joint speeds up (${qd[1]})`);
  assert.ok(qd[0]! < -0.1, `parent counter-rotates (${qd[0]})`);
  // Angular momentum about z from FK: sum of m (r x v)_z + Izz w.
  const layout = compileLayout(m);
  const motion = forwardKinematics(layout, q, qd);
  let Lz = 0, scale = 0;
  for (let b = 1; b < layout.bodies.length; b++) {
    const body = layout.bodies[b]!, mo = motion[b]!;
    const c = bodyPoint(mo, body.com);
    const r: Vec3 = [c[0] - mo.pose.pos[0], c[1] - mo.pose.pos[1], c[2] - mo.pose.pos[2]];
    const v: Vec3 = [mo.vOrigin[0] - mo.omega[2] * r[1], mo.vOrigin[1] + mo.omega[2] * r[0], 0];
    const Lb = body.mass * (c[0] * v[1] - c[1] * v[0]) + body.inertia.izz * mo.omega[2];
    Lz += Lb;
    scale = Math.max(scale, Math.abs(Lb));
  }
  // Each body alone carries ~5e-3; without the reaction on the parent the sum would too.
  close(Lz, 0, 2e-3 * scale, "angular momentum");
  sim.dispose();
});

test("Coulomb friction holds a joint under a smaller torque, slips under a larger one, and stops without chatter", async () => {
  const m = 0.5, l = 0.1, icom = 0.002, Ip = icom + m * l * l, f = 0.01;
  // Gravity off, so only the effort and friction act.
  const sim = await RobotSim.create(singleLink({ m, l, icom, friction: f }), { dt: 0.001, gravity: [0, 0, 0] });
  const q = new Float64Array(1), qd = new Float64Array(1);
  sim.setJointTorques([0.6 * f]);
  for (let k = 0; k < 1000; k++) sim.step();
  sim.getState(q, qd);
  assert.ok(Math.abs(q[0]!) < 1e-5 && Math.abs(qd[0]!) < 1e-5, `held: q=${q[0]} qd=${qd[0]}`);

  sim.setState([0], [0]);
  sim.setJointTorques([3 * f]);
  for (let k = 0; k < 500; k++) sim.step();
  sim.getState(q, qd);
  close(qd[0]!, ((3 * f - f) / Ip) * 0.5, 0.01 * ((2 * f) / Ip) * 0.5, "slipping speed");

  // Coasting from 3 rad/s: decelerates at f/Ip, stops at t = 3 Ip / f and stays stopped.
  sim.setState([0], [3]);
  sim.setJointTorques([0]);
  const tStop = (3 * Ip) / f;
  let prevSpeed = Infinity, stoppedAt = -1;
  for (let k = 1; k <= Math.round((tStop + 0.5) / 0.001); k++) {
    sim.step();
    sim.getState(q, qd);
    const speed = Math.abs(qd[0]!);
    assert.ok(speed <= prevSpeed + 1e-7, `speed never increases (beyond float32 noise) (step ${k}: ${speed} > ${prevSpeed})`);
    assert.ok(qd[0]! > -1e-6, `never reverses (step ${k}: ${qd[0]})`);
    if (stoppedAt < 0 && speed < 1e-6) stoppedAt = k * 0.001;
    prevSpeed = speed;
  }
  close(stoppedAt, tStop, 0.01 * tStop + 0.002, "stopping time");
  sim.dispose();
});

test("viscous damping decays velocity as exp(-D t / I)", async () => {
  const m = 0.5, l = 0.1, icom = 0.002, Ip = icom + m * l * l, D = 0.01;
  const sim = await RobotSim.create(singleLink({ m, l, icom, damping: D }), { dt: 0.001, gravity: [0, 0, 0] });
  const q = new Float64Array(1), qd = new Float64Array(1);
  sim.setState([0], [5]);
  for (let k = 0; k < 500; k++) sim.step();
  sim.getState(q, qd);
  close(qd[0]!, 5 * Math.exp((-D * 0.5) / Ip), 0.005 * 5, "decayed speed");
  sim.dispose();
});

test("hard stops: the Furuta arm stops at +-2 rad and limitContact reports it", async () => {
  const sim = await RobotSim.create(loadRobot("furuta"), { dt: 0.001 });
  const q = new Float64Array(2), qd = new Float64Array(2);
  assert.deepEqual(sim.jointLimit(0), { lower: -2, upper: 2 });
  assert.equal(sim.jointLimit(1), undefined);
  assert.equal(sim.limitContact(0), false);
  sim.setJointTorques([0.05, 0]);
  for (let k = 0; k < 1500; k++) sim.step();
  sim.getState(q, qd);
  close(q[0]!, 2, 0.01, "at the upper stop");
  assert.equal(sim.limitContact(0), true);
  assert.equal(sim.limitContact(1), false);
  sim.setJointTorques([-0.05, 0]);
  for (let k = 0; k < 3000; k++) sim.step();
  sim.getState(q, qd);
  close(q[0]!, -2, 0.01, "at the lower stop");
  assert.equal(sim.limitContact(0), true);
  sim.setState([1.5, 0], [0, 0]);
  assert.equal(sim.limitContact(0), false);
  assert.throws(() => sim.limitContact(2), /joint index 2 out of range/);
  sim.dispose();
});

test("revolute angles are continuous across ±pi (turns are counted)", async () => {
  const sim = await RobotSim.create(singleLink(), { dt: 0.001, gravity: [0, 0, 0] });
  const q = new Float64Array(1), qd = new Float64Array(1);
  sim.setState([-1], [-25]);
  let integral = -1, prev = -25;
  for (let k = 0; k < 2000; k++) {
    sim.step();
    sim.getState(q, qd);
    integral += 0.0005 * (prev + qd[0]!);
    prev = qd[0]!;
  }
  assert.ok(q[0]! < -25, `several turns counted (q = ${q[0]})`);
  close(q[0]!, integral, 0.02, "angle vs integrated speed");
  sim.dispose();
});

test("Rapier integrates gyroscopic torque itself (torque-free body follows Euler's equations)", async () => {
  const R = await loadRapier();
  const world = new R.World({ x: 0, y: 0, z: 0 });
  world.timestep = 0.001;
  const I: Vec3 = [1, 2, 3];
  const body = world.createRigidBody(
    R.RigidBodyDesc.dynamic().setCanSleep(false).setAdditionalMassProperties(1, { x: 0, y: 0, z: 0 }, { x: I[0], y: I[1], z: I[2] }, { x: 0, y: 0, z: 0, w: 1 }),
  );
  body.setAngvel({ x: 1, y: 1, z: 0 }, true);
  for (let k = 0; k < 1000; k++) world.step();
  const w = body.angvel();
  world.free();
  // Reference: body-frame Euler equations + quaternion kinematics, RK4.
  const deriv = (s: number[]) => {
    const [w1, w2, w3, qx, qy, qz, qw] = s as [number, number, number, number, number, number, number];
    return [
      ((I[1] - I[2]) * w2 * w3) / I[0], ((I[2] - I[0]) * w3 * w1) / I[1], ((I[0] - I[1]) * w1 * w2) / I[2],
      0.5 * (qw * w1 + qy * w3 - qz * w2), 0.5 * (qw * w2 + qz * w1 - qx * w3), 0.5 * (qw * w3 + qx * w2 - qy * w1), -0.5 * (qx * w1 + qy * w2 + qz * w3),
    ];
  };
  let s = [1, 1, 0, 0, 0, 0, 1];
  const h = 1e-4;
  for (let k = 0; k < 10000; k++) {
    const k1 = deriv(s), k2 = deriv(s.map((v, i) => v + (h / 2) * k1[i]!)), k3 = deriv(s.map((v, i) => v + (h / 2) * k2[i]!)), k4 = deriv(s.map((v, i) => v + h * k3[i]!));
    s = s.map((v, i) => v + (h / 6) * (k1[i]! + 2 * k2[i]! + 2 * k3[i]! + k4[i]!));
  }
  const wWorld = rotate([s[3]!, s[4]!, s[5]!, s[6]!], [s[0]!, s[1]!, s[2]!]);
  // Without the gyroscopic term w would stay (1, 1, 0); the reference turns it to z ~ -0.41.
  assert.ok(wWorld[2] < -0.3);
  closeVec([w.x, w.y, w.z], wWorld, 2e-3, "world angular velocity");
});

test("bad inputs are clear errors", async () => {
  const sim = await RobotSim.create(loadRobot("furuta"), { dt: 0.001 });
  assert.throws(() => sim.setState([0], [0, 0]), /q has 1 values, expected 2 \(arm_joint, pendulum_joint\)/);
  assert.throws(() => sim.setState([0, NaN], [0, 0]), /non-finite value for joint "pendulum_joint"/);
  assert.throws(() => sim.setJointTorques([0, Infinity]), /non-finite effort Infinity for joint "pendulum_joint"/);
  assert.throws(() => sim.setGravity([0, 0] as unknown as Vec3), /gravity must be three finite numbers/);
  sim.dispose();
  await assert.rejects(RobotSim.create(loadRobot("furuta"), { dt: 0 }), /dt must be a positive number/);
  await assert.rejects(RobotSim.create(loadRobot("furuta"), { dt: 0.001, solverIterations: 0 }), /solverIterations must be an integer >= 1/);
});

test("dispose frees the world, is idempotent, and later use throws", async () => {
  const sim = await RobotSim.create(loadRobot("furuta"), { dt: 0.001 });
  sim.step();
  sim.dispose();
  sim.dispose();
  assert.equal(sim.disposed, true);
  assert.throws(() => sim.step(), /used after dispose\(\)/);
  assert.throws(() => sim.getState(new Float64Array(2), new Float64Array(2)), /used after dispose\(\)/);
  assert.throws(() => sim.rebuild(loadRobot("furuta")), /used after dispose\(\)/);
});

test("rebuild swaps masses without growing the world; a different structure is refused", async () => {
  const nominal = loadRobot("pendulum");
  const sim = await RobotSim.create(nominal, { dt: 0.001 });
  const q = new Float64Array(1), qd = new Float64Array(1);
  const period = () => {
    sim.setState([0.2], [0]);
    for (let k = 1; k < 3000; k++) {
      sim.step();
      sim.getState(q, qd);
      if (qd[0]! > 0 && k > 10) {
        // first upward zero crossing of velocity after the swing: half period at qd sign change
        return k * 0.001;
      }
    }
    return NaN;
  };
  const before = sim.engineStats();
  const t0 = period();
  // Centre of mass twice as far: the pendulum swings slower.
  const longer = cloneModel(nominal);
  longer.links[1]!.inertial!.origin.xyz = [0, 0, -0.2];
  sim.rebuild(longer);
  const t1 = period();
  assert.ok(t1 > t0 * 1.2, `longer pendulum is slower (${t1} vs ${t0})`);
  for (let k = 0; k < 100; k++) sim.rebuild(k % 2 ? longer : nominal);
  assert.deepEqual(sim.engineStats(), before);
  const other = loadRobot("furuta");
  assert.throws(() => sim.rebuild(other), /differ from the batch's/);
  const broken = cloneModel(nominal);
  broken.links[1]!.inertial!.mass = 0;
  assert.throws(() => sim.rebuild(broken), /link "pendulum": mass must be positive/);
  sim.dispose();
});
