import test from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../common/schema.js";
import { quantityName } from "../../common/units.js";
import { setupTask } from "../../sim/env/sim-env.js";
import { getTask, listTasks } from "../../sim/tasks/registry.js";
import { FURUTA_DEFAULTS } from "../../sim/tasks/furuta/config.js";
import { isVisualTarget } from "../../sim/randomization/spec.js";

test("every parameter of every task's table carries a unit that names a quantity", () => {
  for (const task of listTasks()) {
    const setup = setupTask(task, task.configSchema.parse({}, "task"));
    for (const e of setup.table.entries) assert.doesNotThrow(() => quantityName(e.unit), `${task.name}: ${e.name} has unit ${JSON.stringify(e.unit)}`);
  }
  const furuta = setupTask(getTask("furuta"), getTask("furuta").configSchema.parse({}, "task")).table;
  const unit = (name: string) => furuta.entries[furuta.indexOf(name)]!.unit;
  assert.deepEqual(
    ["actuators.arm.latency", "joints.arm_joint.friction", "joints.arm_joint.damping", "sensors.arm.offset", "actuators.arm.deadZone", "links.pendulum.mass"].map(unit),
    ["s", "N m", "N m s/rad", "rad", "V", "kg"],
  );
});

/** The Furuta defaults, every figure written with a unit (360/4096 deg is one count). */
function furutaWithUnits() {
  const robot = structuredClone(FURUTA_DEFAULTS.robot) as any;
  Object.assign(robot.actuators[0], { commandScale: "6 V", km: "42 mN m/A", Rm: "8.4 ohm", voltageLimit: "12 V", deadZone: "0 V", latency: "0 ms", gain: "100 %" });
  for (const s of robot.sensors) Object.assign(s, { offset: "0 deg", noise: "0 rad" });
  const abs = (target: string, low: string, high: string) => ({ target, distribution: "uniform", mode: "absolute", low, high });
  const randomization = (FURUTA_DEFAULTS.randomization as any[]).map((e) => {
    if (isVisualTarget(e.target)) return e; // what the camera sees: colours, textures, light (their own table, test/sim/render)
    if (e.mode === "scale") return { ...e, low: `${Math.round(e.low * 100)} %`, high: `${Math.round(e.high * 100)} %` };
    switch (e.target) {
      case "joints.arm_joint.friction": return abs(e.target, "0 N m", "3 mN m");
      case "joints.pendulum_joint.friction": return abs(e.target, "0 N m", "50 uN m");
      case "actuators.arm.deadZone": return abs(e.target, "0 V", "300 mV");
      case "actuators.arm.latency": return abs(e.target, "0 ms", "10 ms");
      case "sensors.arm.noise": case "sensors.pendulum.noise": return abs(e.target, "0 deg", "0.17578125 deg");
      case "sensors.arm.offset": case "sensors.pendulum.offset": return abs(e.target, "-0.439453125 deg", "0.439453125 deg");
      default: throw new Error(`test does not know how to write ${e.target} with units`);
    }
  });
  return { robot, randomization, controlDt: "10 ms", physicsDt: "5 ms", physicsSubstep: "200 us", episodeSeconds: "20 s", success: { uprightTolerance: "200 mrad", holdSeconds: "5000 ms" }, init: { theta: "50 mrad", alpha: "0.05 rad" } };
}

test("a task config written with units sets up the same table and ranges as the plain defaults", () => {
  const task = getTask("furuta");
  const plain = setupTask(task, task.configSchema.parse({}, "task"));
  const units = setupTask(task, task.configSchema.parse(furutaWithUnits(), "task"));
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-14 * Math.max(1, Math.abs(a));
  assert.equal(units.table.size, plain.table.size);
  plain.table.entries.forEach((e, i) => assert.ok(close(e.nominal, units.table.entries[i]!.nominal), `${e.name}: ${e.nominal} vs ${units.table.entries[i]!.nominal}`));
  const rp = plain.randomizer.privilegedRanges(), ru = units.randomizer.privilegedRanges();
  assert.deepEqual(ru.map((r) => r.name), rp.map((r) => r.name));
  rp.forEach((r, i) => assert.ok(close(r.low, ru[i]!.low) && close(r.high, ru[i]!.high), `${r.name}: [${r.low}, ${r.high}] vs [${ru[i]!.low}, ${ru[i]!.high}]`));
  assert.deepEqual(units.spec, plain.spec);
  for (const k of ["controlDt", "physicsDt", "physicsSubstep", "episodeSeconds", "success", "init"] as const) assert.deepEqual((units.config as any)[k], (plain.config as any)[k], k);
});

test("task and robot config figures with the wrong unit name the field", () => {
  const task = getTask("furuta");
  const bad = (edit: (c: any) => void) => {
    const c = furutaWithUnits();
    edit(c);
    return () => task.configSchema.parse(c, "task");
  };
  const cases: [(c: any) => void, string, RegExp][] = [
    [(c) => (c.robot.actuators[0].commandScale = "6 N m"), "task.robot.actuators[0].commandScale", /expected a voltage \(V\), got "6 N m"/],
    [(c) => (c.robot.actuators[0].latency = "10 mV"), "task.robot.actuators[0].latency", /expected a time \(s\), got "10 mV"/],
    [(c) => (c.robot.actuators[0].latency = "2 s"), "task.robot.actuators[0].latency", /expected a number >= 0 <= 1, got 2 s \(from "2 s"\)/],
    [(c) => (c.robot.actuators[0].km = "42 mN m"), "task.robot.actuators[0].km", /expected a torque constant \(N m\/A\), got "42 mN m"/],
    [(c) => (c.robot.sensors[1].offset = "5 degs"), "task.robot.sensors[1].offset", /cannot read "5 degs"/],
    [(c) => (c.controlDt = "100 Hz"), "task.controlDt", /expected a time \(s\), got "100 Hz"/],
    [(c) => (c.controlDt = "1 ms"), "task.controlDt", /expected a number >= 0\.002 <= 0\.01, got 0\.001 s \(from "1 ms"\)/],
  ];
  for (const [edit, path, pattern] of cases) assert.throws(bad(edit), (e: unknown) => e instanceof ConfigError && e.path === path && pattern.test(e.message), path);
  // A servo's command is a position: "0.5 rad" fits, volts do not.
  const servo = (commandScale: unknown) => () => task.configSchema.parse({ robot: { ...FURUTA_DEFAULTS.robot, actuators: [{ name: "arm", joint: "arm_joint", kind: "servo", commandScale, kp: "2 N m/rad", kd: 0.1, effortLimit: "0.5 N m" }] } }, "task");
  assert.equal((servo("30 deg")() as any).robot.actuators[0].commandScale, Number(((30 * Math.PI) / 180).toPrecision(15)));
  assert.throws(servo("6 V"), /task\.robot\.actuators\[0\]\.commandScale: expected an angle \(rad\), got "6 V"/);
});
