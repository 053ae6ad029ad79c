/**
 * `s2r emulate --ros2`: the simulator as a ros2_control robot. The core is
 * checked against a RobotPlant on a test clock; the served robot is checked
 * from the outside, over Cyclone DDS on loopback (a domain of its own), as a
 * ROS 2 node would see it.
 *
 * Where Cyclone DDS is not installed the ROS 2 test skips, saying why; in CI
 * (CI=true) a missing Cyclone fails it instead.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { main } from "../../launch/cli.js";
import { setupTask } from "../../sim/env/sim-env.js";
import { RobotPlant } from "../../sim/plant.js";
import { getTask } from "../../sim/tasks/registry.js";
import { emulatorParams } from "../../robot/emulator/emulator-params.js";
import { Ros2EmulatedRobot } from "../../robot/emulator/ros2-emulated-robot.js";
import { loadRigConfig } from "../../robot/rigs/rig-config.js";
import { RigUnits } from "../../robot/rigs/units.js";
import { randomLoopbackDomainId, useLoopbackCyclone } from "../../robot/ros2/cyclone/loopback.js";
import { openCycloneTransport } from "../../robot/ros2/cyclone/transport.js";
import { waitForMatch } from "../../robot/ros2/match.js";
import { float64MultiArray, timeToMs, type JointState } from "../../robot/ros2/messages.js";
import { cycloneAvailable } from "./cyclone-available.js";

const rig = loadRigConfig("furuta");
const task = getTask("furuta");
const setup = setupTask(task, task.configSchema.parse({}, ""));
const units = RigUnits.of(rig);
const KM = 0.042;
const RM = 8.4;


test("the ROS 2 robot core: calibrated readings of the simulator fed the commanded volts, clamped, with a command timeout", async () => {
  const params = emulatorParams(setup, rig);
  const robot = await Ros2EmulatedRobot.create({ rig, setup, params, commandTimeoutMs: 100 });
  const ref = await RobotPlant.create(setup.model, setup.table, setup.config.robot, robot.plant.physicsDt, robot.plant.physicsSubstep);
  try {
    assert.deepEqual(robot.jointNames, ["arm_joint", "pendulum_joint"]);
    assert.deepEqual(robot.commandNames, ["arm"]);
    ref.setParams(setup.table.nominal());
    ref.reset([0, 0], [0, 0]);
    robot.advanceTo(0);
    assert.equal(robot.command([3], 0), undefined);
    ref.command([3]);
    // Re-sent every 10 ms, as a controller does: no timeout.
    for (let t = 10; t <= 500; t += 10) assert.equal(robot.command([3], t), undefined);
    ref.advance(500);
    const r = robot.sample();
    const step = units.radPerCount;
    assert.ok(ref.q[0]! > 0.3, `the arm turned (${ref.q[0]} rad)`);
    assert.equal(Math.round(r.position[0]! / step), Math.round(ref.q[0]! / step), "arm position, to the count");
    assert.equal(Math.round(r.position[1]! / step), Math.round(ref.q[1]! / step), "pendulum position, to the count");
    assert.ok(Math.abs(r.position[0]! / step - Math.round(r.position[0]! / step)) < 1e-9, "positions are whole counts");
    assert.ok(Math.abs(r.velocity[0]! - ref.qd[0]!) <= units.radPerSecPerVelocityCount, `velocity ${r.velocity[0]} vs ${ref.qd[0]}`);
    const amps = (3 - KM * ref.qd[0]!) / RM;
    assert.ok(Math.abs(r.effort[0]! - amps) <= units.ampsPerCurrentCount, `current ${r.effort[0]} A vs ${amps} A`);
    assert.ok(Number.isNaN(r.effort[1]!), "the pendulum joint has no motor: effort NaN");

    // Beyond the rig's 6 V limit: clamped.
    assert.equal(robot.command([20], 510), undefined);
    assert.deepEqual(robot.appliedVolts, [6]);
    assert.equal(robot.stats.commandsClamped, 1);
    // Malformed commands are refused, saying why, and change nothing.
    assert.match(robot.command([1, 2], 520)!, /a command with 2 values was ignored: the robot takes 1 \(volts for arm\)/);
    assert.match(robot.command([Number.NaN], 520)!, /NaN V for arm was ignored/);
    assert.deepEqual(robot.appliedVolts, [6]);
    assert.equal(robot.stats.commandsRejected, 2);
    // Silence: the last command holds until the timeout, then 0 V.
    robot.advanceTo(609);
    assert.deepEqual(robot.appliedVolts, [6]);
    robot.advanceTo(611);
    assert.deepEqual(robot.appliedVolts, [0]);
    assert.equal(robot.stats.commandTimeouts, 1);
    assert.equal(robot.stats.commandsApplied, 52);
  } finally {
    ref.dispose();
    robot.dispose();
  }
});

test("the ROS 2 robot core: without velocities it publishes an empty velocity array", async () => {
  const robot = await Ros2EmulatedRobot.create({ rig, setup, params: emulatorParams(setup, rig), commandTimeoutMs: 100, omitVelocity: true });
  try {
    robot.advanceTo(0);
    const r = robot.sample();
    assert.equal(r.velocity.length, 0);
    assert.equal(r.position.length, 2);
  } finally {
    robot.dispose();
  }
});

test("s2r emulate: --ros2 and the serial options exclude each other, by name", async () => {
  const run = async (argv: string[]) => {
    let err = "";
    const code = await main(["emulate", "furuta", ...argv], { out: () => {}, err: (t) => (err += t), interactive: false, signal: new AbortController().signal });
    return { code, err };
  };
  let r = await run(["--ros2", "--link", "/tmp/x"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--link is for the serial bus; it does not apply with --ros2/);
  r = await run(["--link", "/tmp/x", "--domain", "3"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--domain is for --ros2/);
  r = await run(["--ros2", "--rate", "0"]);
  assert.match(r.err, /--rate must be in \(0, 1000\] Hz, got 0/);
  r = await run(["--ros2", "--command-timeout", "-5"]);
  assert.match(r.err, /--command-timeout must be > 0 ms, got -5/);
});

const CLI = fileURLToPath(new URL("../../launch/cli.js", import.meta.url));
const RUNNER = `const { main } = await import(${JSON.stringify(CLI)}); process.exitCode = await main(process.argv.slice(1));`;

test("s2r emulate --ros2 serves JointState at its rate and applies clamped volts, holding 0 V after the command timeout", async (t) => {
  if (!cycloneAvailable(t)) return;
  useLoopbackCyclone();
  const domainId = randomLoopbackDomainId();
  const child = spawn(process.execPath, ["--input-type=module", "-e", RUNNER, "emulate", "furuta", "--ros2", "--domain", String(domainId), "--json"], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const transport = openCycloneTransport({ domainId });
  try {
    for (let i = 0; i < 400 && !out.includes("\n"); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(out.includes("\n"), `no ready line within 20 s: ${err}`);
    const ready = JSON.parse(out.split("\n")[0]!);
    assert.deepEqual(
      { event: ready.event, domain: ready.domain, stateTopic: ready.stateTopic, commandTopic: ready.commandTopic, rateHz: ready.rateHz, commandTimeoutMs: ready.commandTimeoutMs, joints: ready.joints },
      { event: "ready", domain: domainId, stateTopic: "/joint_states", commandTopic: "/arm_voltage_controller/commands", rateHz: 200, commandTimeoutMs: rig.safety.watchdogMs, joints: ["arm_joint", "pendulum_joint"] },
    );

    const states: { msg: JointState; at: number }[] = [];
    const sub = transport.createSubscription("/joint_states", "sensor_msgs/msg/JointState", undefined, (msg, info) => states.push({ msg, at: info.receivedAt }));
    const pub = transport.createPublisher("/arm_voltage_controller/commands", "std_msgs/msg/Float64MultiArray");
    await waitForMatch(sub, { timeoutMs: 5000 });
    await waitForMatch(pub, { timeoutMs: 5000 });
    // Both sides must have discovered each other before data flows: wait for 600 ms of it, then measure the last 500 ms.
    for (let i = 0; i < 200 && !(states.length > 0 && states.at(-1)!.at - states[0]!.at > 600); i++) await new Promise((r) => setTimeout(r, 50));
    const window = states.filter((s) => s.at >= states.at(-1)!.at - 500);
    const rate = (window.length - 1) / ((window.at(-1)!.at - window[0]!.at) / 1000);
    // (The lower bound leaves room for a loaded test machine, where the emulator's 1 ms turns come late.)
    assert.ok(rate > 100 && rate < 230, `${rate.toFixed(0)} JointState/s (expected about 200)`);
    for (const { msg } of states) {
      assert.deepEqual(msg.name, ["arm_joint", "pendulum_joint"]);
      assert.equal(msg.position.length, 2);
      assert.equal(msg.velocity.length, 2);
      assert.ok(Math.abs(timeToMs(msg.header.stamp) - Date.now()) < 5000, "stamped with the system clock");
    }
    for (let i = 1; i < states.length; i++) assert.ok(timeToMs(states[i]!.msg.header.stamp) > timeToMs(states[i - 1]!.msg.header.stamp), "stamps increase");
    assert.ok(states.every((s) => s.msg.position[0] === 0 && s.msg.velocity[0] === 0), "at rest without commands");

    // 50 V asked for 100 ms: 6 V applied (the current never exceeds 6 V / Rm while the arm speeds up).
    const pushStart = states.length;
    for (let i = 0; i < 10; i++) {
      pub.publish(float64MultiArray([50]));
      await new Promise((r) => setTimeout(r, 10));
    }
    const lastCommandAt = performance.now();
    await new Promise((r) => setTimeout(r, 700));
    const pushed = states.slice(pushStart);
    const peakAmps = Math.max(...pushed.map((s) => s.msg.effort[0]!));
    assert.ok(peakAmps > 0.5, `the motor was driven (${peakAmps} A)`);
    assert.ok(peakAmps <= 6 / RM + units.ampsPerCurrentCount, `clamped to 6 V: peak ${peakAmps} A, 6 V gives ${(6 / RM).toFixed(3)} A`);
    assert.ok(pushed.at(-1)!.msg.position[0]! > 0.2, `the arm turned (${pushed.at(-1)!.msg.position[0]} rad)`);
    // After the 100 ms timeout (plus the motor's few ms of latency, and delivery delays): 0 V, i.e. current = -km θ̇ / Rm.
    const after = pushed.filter((s) => s.at > lastCommandAt + rig.safety.watchdogMs + 200);
    assert.ok(after.length > 20, `${after.length} states after the timeout`);
    for (const s of after) {
      const volts = s.msg.effort[0]! * RM + KM * s.msg.velocity[0]!;
      assert.ok(Math.abs(volts) < 0.05, `0 V held after the command timeout (${volts.toFixed(3)} V effective)`);
    }
  } finally {
    transport.dispose();
    if (child.exitCode === null) child.kill("SIGTERM");
  }
  assert.equal(await exited, 0, err);
  assert.match(err, /joint states published, 10 commands applied \(10 clamped, 0 ignored\), 1 command timeouts/);
});
