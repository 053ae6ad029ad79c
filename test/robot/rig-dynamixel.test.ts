import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectPath } from "../../common/paths.js";
import { HardwareError } from "../../robot/hardware/interface.js";
import { spawnEmulator } from "../../robot/emulator/spawn-emulator.js";
import { DynamixelRig } from "../../robot/rigs/dynamixel-rig.js";
import { rigConfigSchema } from "../../robot/rigs/rig-config.js";

// The Dynamixel rig interface over a real serial stack: `s2r emulate` in a
// child process serves the rig on a pseudo-terminal, the rig opens it as it
// would open /dev/ttyUSB0.

const dir = mkdtempSync(join(tmpdir(), "s2r-rig-dxl-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The Furuta rig with more patience for answers (a loaded 2-core test machine); same code paths. */
const raw = JSON.parse(readFileSync(projectPath("robot", "rigs", "furuta.json"), "utf8"));
raw.bus.timeoutMs = 100;
raw.bus.retries = 2;
const rig = rigConfigSchema.parse(raw, "");

test("activate, read, write and deactivate the emulated rig over a pty", async () => {
  const emu = await spawnEmulator(["furuta", "--link", join(dir, "bus"), "--seed", "9", "--reveal"]);
  try {
    const zero = emu.ready.zeroCounts as Record<string, number>;
    const calibration = { schema: 1, rig: "furuta", joints: { arm_joint: { zeroCounts: zero.arm_joint!, direction: 1 as const }, pendulum_joint: { zeroCounts: zero.pendulum_joint!, direction: 1 as const } } };
    const hw = await DynamixelRig.open(emu.link, rig, calibration);
    try {
      assert.deepEqual(hw.jointNames, ["arm_joint", "pendulum_joint"]);
      assert.deepEqual(hw.commandNames, ["arm"]);
      const rest = await hw.read();
      assert.ok(Math.abs(rest.position[0]!) < 0.01 && Math.abs(rest.position[1]!) < 0.01, `calibrated readings near zero: ${Array.from(rest.position)}`);
      await assert.rejects(hw.write([1]), /write\(\) before activate\(\)/);

      await hw.activate();
      assert.equal((await hw.bus.readRegister(1, "Torque Enable")).raw, 1);
      assert.equal((await hw.bus.readRegister(1, "Operating Mode")).raw, 16);
      let f = rest;
      const t0 = performance.now();
      // 200 ms: at 3 V the arm reaches the hard stop (and bounces) within about 0.3 s of real time.
      while (performance.now() - t0 < 200) {
        await new Promise((r) => setTimeout(r, 10));
        f = await hw.read();
        await hw.write([3]);
      }
      assert.ok(f.position[0]! > 0.05, `a positive voltage turns the arm the positive way (${f.position[0]} rad)`);
      assert.ok(f.velocity[0]! > 0, `velocity ${f.velocity[0]} rad/s`);
      assert.ok(f.effort[0]! > 0 && f.effort[0]! < 3 / 8.4 / 0.8, `current ${f.effort[0]} A`);
      assert.ok(Number.isNaN(f.effort[1]!));
      assert.equal((await hw.bus.readRegister(1, "Goal PWM")).raw, 221);

      await hw.deactivate();
      assert.deepEqual(hw.lastDeactivateProblems, []);
      assert.equal((await hw.bus.readRegister(1, "Torque Enable")).raw, 0);
      assert.equal((await hw.bus.readRegister(2, "Torque Enable")).raw, 0);
      assert.equal((await hw.bus.readRegister(1, "Goal PWM")).raw, 0);
      await hw.deactivate(); // repeatable on an already-safe rig
      assert.deepEqual(hw.lastDeactivateProblems, []);
    } finally {
      await hw.close();
    }
  } finally {
    const exit = await emu.stop();
    assert.equal(exit.code, 0, emu.stderr());
  }
});

test("opening a port that does not exist is a HardwareError saying so", async () => {
  const calibration = { schema: 1, rig: "furuta", joints: { arm_joint: { zeroCounts: 0, direction: 1 as const }, pendulum_joint: { zeroCounts: 0, direction: 1 as const } } };
  await assert.rejects(DynamixelRig.open(join(dir, "nothing-here"), rig, calibration), (e: unknown) => e instanceof HardwareError && /cannot open serial port .*nothing-here/.test(e.message));
});
