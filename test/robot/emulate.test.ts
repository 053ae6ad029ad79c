import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../launch/cli.js";
import { setupTask } from "../../sim/env/sim-env.js";
import { RobotPlant } from "../../sim/plant.js";
import { getTask } from "../../sim/tasks/registry.js";
import { DynamixelBus } from "../../robot/dynamixel/bus.js";
import { DxlStatusError } from "../../robot/dynamixel/errors.js";
import { VirtualTransport } from "../../robot/dynamixel/virtual-transport.js";
import { HardwareError } from "../../robot/hardware/interface.js";
import { EmulatedRig } from "../../robot/emulator/emulated-rig.js";
import { emulatorParams, describeEmulatorParams } from "../../robot/emulator/emulator-params.js";
import type { ThermalOverloadOptions } from "../../robot/emulator/thermal-overload.js";
import { DynamixelRig } from "../../robot/rigs/dynamixel-rig.js";
import { loadRigConfig } from "../../robot/rigs/rig-config.js";
import { RigUnits } from "../../robot/rigs/units.js";

// The emulator core driven through the host's own stack (DynamixelRig ->
// DynamixelBus -> in-memory transport) on a test-controlled clock, so that
// its physics can be compared step for step with the simulator.

const dir = mkdtempSync(join(tmpdir(), "s2r-emulate-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const rig = loadRigConfig("furuta");
const task = getTask("furuta");
const setup = setupTask(task, task.configSchema.parse({}, ""));
const units = RigUnits.of(rig);
const step = units.radPerCount;

interface Bench {
  emu: EmulatedRig;
  clock: { t: number };
  bus: DynamixelBus;
  hw: DynamixelRig;
  close(): Promise<void>;
}

async function bench(o: { zeroCounts?: Record<string, number>; initial?: Record<string, number>; overload?: ThermalOverloadOptions; faults?: (status: Uint8Array, index: number) => Uint8Array | null } = {}): Promise<Bench> {
  const params = emulatorParams(setup, rig);
  Object.assign(params.zeroCounts, o.zeroCounts ?? {});
  const emu = await EmulatedRig.create({ rig, setup, params, initial: o.initial, overload: o.overload });
  const clock = { t: 0 };
  emu.advanceTo(0);
  // The transport reads the clock before handing bytes to the devices: that is when the plant catches up.
  const transport = new VirtualTransport(emu.bus, {
    clock: () => {
      emu.advanceTo(clock.t);
      return clock.t;
    },
    faults: o.faults,
  });
  const bus = new DynamixelBus(transport, { timeoutMs: 50 });
  const calibration = { schema: 1, rig: "furuta", joints: Object.fromEntries(Object.entries(params.zeroCounts).map(([j, z]) => [j, { zeroCounts: z, direction: 1 as const }])) };
  const hw = new DynamixelRig(bus, rig, calibration);
  return {
    emu,
    clock,
    bus,
    hw,
    async close() {
      await hw.close();
      emu.dispose();
    },
  };
}

test("Goal PWM drives the simulator's motor: positions and currents match a RobotPlant fed the same volts", async () => {
  const b = await bench();
  const ref = await RobotPlant.create(setup.model, setup.table, setup.config.robot, b.emu.plant.physicsDt, b.emu.plant.physicsSubstep);
  try {
    ref.setParams(setup.table.nominal());
    ref.reset([0, 0], [0, 0]);
    await b.hw.activate();
    const volts = units.pwmToVolts(units.voltsToPwm(3)); // what 3 V becomes on the wire: 221 counts
    for (let i = 1; i <= 50; i++) {
      b.clock.t = 10 * i;
      await b.hw.read();
      await b.hw.write([3]);
      ref.advance(10);
      ref.command([volts]);
    }
    b.clock.t = 510;
    const f = await b.hw.read();
    ref.advance(10);
    assert.ok(ref.q[0]! > 0.3, `the arm turned (${ref.q[0]} rad)`);
    assert.equal(Math.round(f.position[0]! / step), Math.round(ref.q[0]! / step), "arm counts");
    assert.equal(Math.round(f.position[1]! / step), Math.round(ref.q[1]! / step), "pendulum counts");
    assert.ok(Math.abs(f.velocity[0]! - ref.qd[0]!) <= units.radPerSecPerVelocityCount, `velocity ${f.velocity[0]} vs ${ref.qd[0]}`);
    const amps = (volts - 0.042 * ref.qd[0]!) / 8.4;
    assert.ok(Math.abs(f.effort[0]! - amps) <= units.ampsPerCurrentCount, `current ${f.effort[0]} A vs ${amps} A`);
    assert.ok(Number.isNaN(f.effort[1]!), "the encoder reports no current");
    const pwm = await b.bus.readRegister(1, "Present PWM");
    assert.equal(pwm.raw, 221);

    // Torque off: the motor is disconnected, no current flows.
    await b.hw.deactivate();
    assert.deepEqual(b.hw.lastDeactivateProblems, []);
    b.clock.t = 530;
    const off = await b.hw.read();
    assert.equal(off.effort[0], 0);
    assert.equal((await b.bus.readRegister(1, "Torque Enable")).raw, 0);
    assert.equal((await b.bus.readRegister(1, "Goal PWM")).raw, 0);
  } finally {
    ref.dispose();
    await b.close();
  }
});

test("encoders: hidden zero offsets, multi-turn counts; the calibration removes the offsets", async () => {
  const b = await bench({ zeroCounts: { arm_joint: 1000, pendulum_joint: -5 }, initial: { pendulum_joint: 7 } });
  try {
    const raw = await b.bus.readRegister(2, "Present Position");
    assert.equal(raw.raw, -5 + Math.round(7 / step));
    assert.ok(raw.raw > 4096, "multi-turn: beyond one revolution");
    assert.equal((await b.bus.readRegister(1, "Present Position")).raw, 1000);
    const f = await b.hw.read();
    assert.ok(Math.abs(f.position[0]!) < 1e-12);
    assert.ok(Math.abs(f.position[1]! - 7) <= step / 2 + 1e-12);
  } finally {
    await b.close();
  }
});

test("activation writes the rig's setup; EEPROM is locked while torque is on", async () => {
  const b = await bench();
  try {
    assert.equal((await b.bus.readRegister(1, "Operating Mode")).raw, 3, "powers up in the XM430 default mode");
    await b.hw.activate();
    const reg = async (id: number, name: string) => (await b.bus.readRegister(id, name)).raw;
    assert.equal(await reg(1, "Operating Mode"), 16);
    assert.equal(await reg(1, "PWM Limit"), 443);
    assert.equal(await reg(1, "Bus Watchdog"), rig.safety.watchdogMs / 20);
    assert.equal(await reg(1, "Torque Enable"), 1);
    assert.equal(await reg(2, "Torque Enable"), 0, "the pendulum encoder's torque stays off");
    assert.equal(await reg(1, "Return Delay Time"), 0);
    await assert.rejects(b.bus.writeRegister(1, "Operating Mode", 3), (e: unknown) => e instanceof DxlStatusError && e.errorName === "Access Error");
    await b.hw.write([7]); // over the limit: clamped to the rig's 443
    assert.equal(await reg(1, "Goal PWM"), 443);
    await b.hw.write([-100]);
    assert.equal(await reg(1, "Goal PWM"), -443);
  } finally {
    await b.close();
  }
});

test("sustained stall current trips the overload: alert, torque off, decoded by the rig, refused until Reboot", async () => {
  const b = await bench({ overload: { continuousAmps: 0.3, tripAmpSquaredSeconds: 0.2 } });
  try {
    await b.hw.activate();
    let error: unknown;
    for (let i = 1; i <= 400 && !error; i++) {
      b.clock.t = 10 * i;
      try {
        await b.hw.read();
        await b.hw.write([6]); // arm pinned against its stop
      } catch (e) {
        error = e;
      }
    }
    assert.ok(error instanceof HardwareError, String(error));
    assert.match((error as Error).message, /hardware error: ID 1 \(arm_joint\): Overload Error; the device turned its torque off/);
    assert.equal(b.emu.stats.overloadTrips, 1);
    assert.ok(b.clock.t > 500, `not instantly (${b.clock.t} ms): it is a thermal model`);
    assert.equal((await b.bus.readRegister(1, "Torque Enable")).raw, 0);
    await assert.rejects(b.hw.activate(), /ID 1 \(arm_joint\) reports Hardware Error Status Overload Error \(32\)/);
    await assert.rejects(b.bus.writeRegister(1, "Torque Enable", 1), /Result Fail.*Overload Error/);
    await b.hw.deactivate(); // already safe: no throw, nothing to report
    assert.deepEqual(b.hw.lastDeactivateProblems, []);
    await b.bus.reboot(1);
    b.clock.t += 20_000; // let it cool down
    await b.hw.read();
    await b.hw.activate();
    assert.equal((await b.bus.readRegister(1, "Torque Enable")).raw, 1);
  } finally {
    await b.close();
  }
});

test("the Bus Watchdog stops the motor after silence; goal writes are refused until activate() re-arms it", async () => {
  const b = await bench();
  try {
    await b.hw.activate();
    b.clock.t = 10;
    await b.hw.write([4]);
    for (let t = 20; t <= 200; t += 10) {
      b.clock.t = t;
      b.emu.tick(t); // silence on the bus: only the devices' clocks run
    }
    assert.equal(b.emu.stats.watchdogTrips, 1);
    assert.equal((await b.bus.readRegister(1, "Bus Watchdog")).raw, 255);
    assert.equal((await b.bus.readRegister(1, "Present PWM")).raw, 0, "no drive after the trip");
    await b.hw.write([2]); // Sync Write: silently refused by the device
    assert.equal((await b.bus.readRegister(1, "Goal PWM")).raw, units.voltsToPwm(4));
    // After real silence longer than the watchdog period, the rig checks, finds the trip and says so.
    await new Promise((r) => setTimeout(r, rig.safety.watchdogMs + 20));
    await assert.rejects(b.hw.read(), /ID 1 \(arm_joint\): the Bus Watchdog stopped the motor after more than 100 ms without bus traffic/);
    await b.hw.activate();
    assert.equal((await b.bus.readRegister(1, "Bus Watchdog")).raw, rig.safety.watchdogMs / 20);
    await b.hw.write([2]);
    assert.equal((await b.bus.readRegister(1, "Goal PWM")).raw, units.voltsToPwm(2));
  } finally {
    await b.close();
  }
});

test("hidden parameters: drawn from the task's ranges by seed, reproducible; files give values or sysid targets", () => {
  const a = emulatorParams(setup, rig, { seed: 7 });
  const again = emulatorParams(setup, rig, { seed: 7 });
  const other = emulatorParams(setup, rig, { seed: 8 });
  assert.deepEqual(Array.from(a.values), Array.from(again.values));
  assert.deepEqual(a.zeroCounts, again.zeroCounts);
  assert.notDeepEqual(Array.from(a.values), Array.from(other.values));
  assert.equal(a.hidden, true);
  const shown = describeEmulatorParams(setup, a);
  assert.ok(shown.params["actuators.arm.Rm"]! >= 8.4 * 0.8 && shown.params["actuators.arm.Rm"]! <= 8.4 * 1.2);
  assert.ok(a.zeroCounts.arm_joint! >= 0 && a.zeroCounts.arm_joint! < 4096);
  assert.ok(Math.abs(a.zeroCounts.pendulum_joint!) <= 16);
  const nominal = emulatorParams(setup, rig);
  assert.equal(nominal.source, "nominal");
  assert.equal(nominal.hidden, false);
  assert.deepEqual(nominal.zeroCounts, { arm_joint: 0, pendulum_joint: 0 });

  const file = (name: string, doc: unknown) => {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify(doc));
    return f;
  };
  const p = emulatorParams(setup, rig, { file: file("v.json", { values: { "actuators.arm.Rm": 9.1 }, zeroCounts: { arm_joint: 1234 } }) });
  assert.equal(p.values[setup.table.indexOf("actuators.arm.Rm")], 9.1);
  assert.equal(p.zeroCounts.arm_joint, 1234);
  const sysid = emulatorParams(setup, rig, { file: file("s.json", { schema: 1, rig: "furuta", values: { Rm: 9.2 }, stddev: {}, targets: { "actuators.arm.Rm": 9.2 }, fit: {} }) });
  assert.equal(sysid.values[setup.table.indexOf("actuators.arm.Rm")], 9.2);
  assert.throws(() => emulatorParams(setup, rig, { file: file("bad.json", { values: { "actuators.arm.Rn": 9 } }) }), /bad\.json: values\.actuators\.arm\.Rn: unknown parameter .*did you mean .*actuators\.arm\.Rm/);
  assert.throws(() => emulatorParams(setup, rig, { file: file("nan.json", { values: { "actuators.arm.Rm": "x" } }) }), /values\.actuators\.arm\.Rm: expected a finite number/);
  assert.throws(() => emulatorParams(setup, rig, { file: file("extra.json", { value: {} }) }), /extra\.json: value: unknown field/);
  assert.throws(() => emulatorParams(setup, rig, { file: file("joint.json", { zeroCounts: { elbow: 1 } }) }), /zeroCounts\.elbow: rig furuta has no such joint/);
});

test("s2r emulate serves on the link until interrupted, hides drawn parameters unless --reveal, and removes the link", async () => {
  for (const reveal of [false, true]) {
    const link = join(dir, `bus-${reveal}`);
    const controller = new AbortController();
    let out = "";
    let err = "";
    let running!: Promise<number>;
    const ready = new Promise<void>((resolve) => {
      const io = {
        out: (t: string) => {
          out += t;
          resolve();
        },
        err: (t: string) => (err += t),
        interactive: false,
        signal: controller.signal,
      };
      running = main(["emulate", "furuta", "--link", link, "--seed", "3", "--json", ...(reveal ? ["--reveal"] : [])], io);
    });
    await ready;
    const line = JSON.parse(out.split("\n")[0]!);
    assert.equal(line.event, "ready");
    assert.equal(line.parameters, "seed 3");
    assert.equal(existsSync(link), true);
    assert.equal("params" in line, reveal);
    assert.equal("zeroCounts" in line, reveal);
    if (reveal) assert.deepEqual(line.zeroCounts, emulatorParams(setup, rig, { seed: 3 }).zeroCounts);
    controller.abort(new Error("SIGINT"));
    assert.equal(await running, 0, err);
    assert.equal(existsSync(link), false, "the link is gone");
    assert.equal(existsSync(`${link}.device`), false, "and the emulator's end");
    assert.match(err, /s2r emulate: stopped; .* s simulated/);
  }
});

test("s2r emulate --params takes a plain map of physical symbols, values outside the randomization ranges included", async () => {
  const link = join(dir, "bus-symbols");
  const params = join(dir, "symbols.json");
  // Rm at +50 %: beyond the rig page's +-20 %.
  writeFileSync(params, JSON.stringify({ Rm: 12.6, km: 0.0336, armFriction: 0.003, deadZone: 0.3 }));
  const controller = new AbortController();
  let out = "";
  let err = "";
  let running!: Promise<number>;
  const ready = new Promise<void>((resolve) => {
    const io = { out: (t: string) => ((out += t), resolve()), err: (t: string) => (err += t), interactive: false, signal: controller.signal };
    running = main(["emulate", "furuta", "--link", link, "--params", params, "--reveal", "--json", "--rt-priority", "0"], io);
  });
  await ready;
  const line = JSON.parse(out.split("\n")[0]!);
  controller.abort(new Error("SIGINT"));
  assert.equal(await running, 0, err);
  assert.deepEqual(line.params, { "actuators.arm.Rm": 12.6, "actuators.arm.km": 0.0336, "joints.arm_joint.friction": 0.003, "actuators.arm.deadZone": 0.3 });
  const bad = join(dir, "mixed.json");
  writeFileSync(bad, JSON.stringify({ Rm: 9, Kp: 1 }));
  let badErr = "";
  const code = await main(["emulate", "furuta", "--link", join(dir, "bus-bad"), "--params", bad], { out: () => undefined, err: (t: string) => (badErr += t), interactive: false, signal: new AbortController().signal });
  assert.notEqual(code, 0);
  assert.match(badErr, /mixed\.json: Kp: unknown parameter symbol \(a plain map takes Rm, km/);
});

test("a Sync Read that times out is retried within the caller's slack, and only then", async () => {
  let drop = 0;
  // Only Sync Read answers (10 data bytes) are dropped: the rig's Bus Watchdog checks still get through.
  const b = await bench({ faults: (status) => (drop > 0 && status.length > 14 ? (drop--, null) : status) });
  try {
    await b.hw.activate();
    // Three silent attempts (2 devices each): the bus's own retries (2, at 50 ms each) are not enough...
    drop = 6;
    await assert.rejects(b.hw.read(), (e: unknown) => e instanceof HardwareError && /attempt 3 of 3/.test((e as Error).message));
    // ...a 300 ms slack allows five.
    drop = 6;
    const before = b.hw.readRetries;
    const f = await b.hw.read({ retryForSec: 0.3 });
    assert.ok(Number.isFinite(f.position[0]!));
    assert.equal(b.hw.readRetries - before, 3);
    // No slack left: no more than the bus's own retries.
    drop = 6;
    await assert.rejects(b.hw.read({ retryForSec: 0.01 }), /attempt 3 of 3/);
  } finally {
    await b.close();
  }
});
