import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../common/schema.js";
import { projectPath } from "../../common/paths.js";
import { loadRigConfig, rigActuators, rigJointOrder, listRigs } from "../../robot/rigs/rig-config.js";
import { calibrationArrays, readCalibration, writeCalibration } from "../../robot/rigs/calibration.js";
import { RigUnits } from "../../robot/rigs/units.js";
import { rigSafetyConfig, implausiblePositions } from "../../robot/control/rig-safety.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-rig-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const furutaJson = () => JSON.parse(readFileSync(projectPath("robot", "rigs", "furuta.json"), "utf8"));

function rigFile(name: string, edit: (r: any) => void): string {
  const r = furutaJson();
  edit(r);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(r));
  return file;
}

/** Each edited copy of the Furuta rig file is refused with an error naming the file and matching the pattern. */
function expectRefused(cases: [name: string, edit: (r: any) => void, message: RegExp][]): void {
  for (const [name, edit, message] of cases) {
    const file = rigFile(name, edit);
    assert.throws(
      () => loadRigConfig(file),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith(file) && message.test(e.message),
      name,
    );
  }
}

test("the Furuta rig file says what the rig page says", () => {
  assert.ok(listRigs().includes("furuta"));
  const rig = loadRigConfig("furuta");
  assert.equal(rig.bus.baudRate, 1_000_000);
  assert.equal(rig.bus.protocol, 2);
  assert.deepEqual(rigJointOrder(rig), ["arm_joint", "pendulum_joint"]);
  assert.deepEqual(rigActuators(rig), ["arm"]);
  assert.deepEqual(
    rig.devices.map((d) => [d.id, d.role, d.joint, d.operatingMode]),
    [
      [1, "motor", "arm_joint", 16],
      [2, "encoder", "pendulum_joint", undefined],
    ],
  );
  assert.equal(rig.safety.commandLimits.arm, 6);
  assert.equal(rig.safety.maxGoalPwm, 443);
  assert.deepEqual([rig.safety.guards[0]!.lower, rig.safety.guards[0]!.upper], [-2, 2]);
  assert.equal(rig.ros2.commandTopic, "/arm_voltage_controller/commands");
  assert.deepEqual(rig.ros2.jointNames, ["arm_joint", "pendulum_joint"]);
  // A slow calibration move tolerates far more than a balancing policy.
  const d = rig.safety.deadlines;
  assert.ok(d.calibrate.staleStateSec > d.deploy.staleStateSec && d.calibrate.maxConsecutiveLate > d.deploy.maxConsecutiveLate);
  assert.ok(d.calibrate.staleStateSec * 1000 < rig.safety.watchdogMs, "the Bus Watchdog stays the last line");
  // Omitted: the defaults apply.
  assert.deepEqual(loadRigConfig(rigFile("no-deadlines", (r) => delete r.safety.deadlines)).safety.deadlines, d);
  // 100-500 Hz.
  assert.deepEqual([rig.control.minPeriodSec, rig.control.maxPeriodSec], [0.002, 0.01]);
});

test("bad rig files are refused naming the file and the field", () => {
  const cases: [string, (r: any) => void, RegExp][] = [
    ["dup-id", (r) => (r.devices[1].id = 1), /devices\[1\]\.id: ID 1 appears twice/],
    ["no-actuator", (r) => delete r.devices[0].actuator, /devices\[0\]\.actuator: required for a motor/],
    ["mode", (r) => (r.devices[0].operatingMode = 3), /devices\[0\]\.operatingMode: only PWM control \(16\)/],
    ["model", (r) => (r.devices[1].model = "XL320"), /devices\[1\]\.model: unknown model "XL320"/],
    ["guard-joint", (r) => (r.safety.guards[0].joint = "elbow"), /safety\.guards\[0\]\.joint: no device measures joint "elbow"/],
    ["direction", (r) => (r.safety.guards[0].direction = 2), /safety\.guards\[0\]\.direction: expected 1 or -1, got 2/],
    ["watchdog", (r) => (r.safety.watchdogMs = 90), /safety\.watchdogMs: the Bus Watchdog counts in 20 ms units/],
    ["pwm", (r) => (r.safety.maxGoalPwm = 400), /safety\.maxGoalPwm: 400 is below the 6 V limit of arm/],
    ["limit", (r) => delete r.safety.commandLimits.arm, /safety\.commandLimits\.arm: required/],
    ["typo", (r) => (r.safety.watchdgMs = 100), /safety\.watchdgMs: unknown field/],
    ["protocol", (r) => (r.bus.protocol = 1), /bus\.protocol: only Dynamixel Protocol 2\.0/],
    ["old-budget", (r) => (r.safety.deadlineMissBudget = 3), /safety\.deadlineMissBudget: replaced by safety\.deadlines: delete this field/],
    ["stale", (r) => (r.safety.deadlines.calibrate.staleStateSec = 0), /safety\.deadlines\.calibrate\.staleStateSec: expected a number > 0/],
    ["rate", (r) => (r.safety.deadlines.deploy.missRate.maxFraction = 1.5), /safety\.deadlines\.deploy\.missRate\.maxFraction/],
    ["kind", (r) => (r.safety.deadlines.balance = {}), /safety\.deadlines\.balance: unknown field/],
  ];
  expectRefused(cases);
  assert.throws(() => loadRigConfig("segway"), /unknown rig "segway"; known rigs: .*furuta/);
});

test("a rig file written with units loads to the same numbers as the plain one", () => {
  const plain = loadRigConfig("furuta");
  const file = rigFile("units", (r) => {
    Object.assign(r.bus, { baudRate: "1 Mbaud", timeoutMs: "10 ms", returnDelayMicros: "0 us" });
    r.supplyVolts = "12 V";
    Object.assign(r.units, { currentAmpsPerCount: "2.69 mA", velocityRpmPerCount: "0.229 rpm" });
    r.control = { minPeriodSec: "2 ms", maxPeriodSec: "10 ms" };
    r.safety.commandLimits.arm = "6 V";
    Object.assign(r.safety.guards[0], { lower: "-2 rad", upper: "2000 mrad", softZone: "0.25 rad", margin: "100 mrad", brakingDecel: "40 rad/s^2" });
    Object.assign(r.safety, { watchdogMs: "0.1 s", positionSanityMargin: "150 mrad" });
    r.episodes.stopContactTolerance = "20 mrad";
    Object.assign(r.episodes.settle, { stillSeconds: "1000 ms", positionTolerance: "15 mrad", timeoutSeconds: "4 min", pollHz: "50 Hz" });
    Object.assign(r.episodes.home, { target: "0 deg", kp: "8 V/rad", kd: "0.6 V s/rad", maxCommand: "2 V", tolerance: "0.1 rad", timeoutSeconds: "10 s" });
  });
  assert.deepEqual(loadRigConfig(file), plain);
  // Degrees are radians once loaded.
  const deg = loadRigConfig(rigFile("deg", (r) => Object.assign(r.safety.guards[0], { lower: "-90 deg", upper: "90 deg" })));
  assert.ok(Math.abs(deg.safety.guards[0]!.upper - Math.PI / 2) < 1e-14);
});

test("a unit that does not fit the field, or does not parse, is refused naming the file and the field", () => {
  const cases: [string, (r: any) => void, RegExp][] = [
    ["volts-as-metres", (r) => (r.safety.commandLimits.arm = "6 m"), /: safety\.commandLimits\.arm: expected a voltage \(V\), got "6 m"$/],
    ["watchdog-volts", (r) => (r.safety.watchdogMs = "100 V"), /safety\.watchdogMs: expected a time \(ms\), got "100 V"/],
    ["watchdog-short", (r) => (r.safety.watchdogMs = "10 us"), /safety\.watchdogMs: expected a number >= 20 <= 2540, got 0\.01 ms \(from "10 us"\)/],
    ["watchdog-grid", (r) => (r.safety.watchdogMs = "0.09 s"), /safety\.watchdogMs: the Bus Watchdog counts in 20 ms units; 90 is not/],
    ["baud-hz", (r) => (r.bus.baudRate = "1 MHz"), /bus\.baudRate: expected a symbol rate \(baud\), got "1 MHz"/],
    ["decel", (r) => (r.safety.guards[0].brakingDecel = "40 rad/s"), /safety\.guards\[0\]\.brakingDecel: expected an angular acceleration \(rad\/s\^2\), got "40 rad\/s"/],
    ["garbled", (r) => (r.supplyVolts = "twelve volts"), /supplyVolts: cannot read "twelve volts" as a number with a unit/],
    ["no-unit", (r) => (r.supplyVolts = "12"), /supplyVolts: expected a voltage \(V\), got "12"; a string needs its unit/],
  ];
  expectRefused(cases);
});

test("calibration files: written atomically, read back, errors name the field", () => {
  const rig = loadRigConfig("furuta");
  const file = join(dir, "calib.json");
  writeCalibration(file, { schema: 1, rig: "furuta", createdAt: "2025-01-01T00:00:00Z", method: "manual", joints: { arm_joint: { zeroCounts: 1873.5, direction: 1 }, pendulum_joint: { zeroCounts: -3, direction: -1, stddevCounts: 0.4 } } });
  const c = readCalibration(file, rig);
  assert.equal(c.joints.pendulum_joint!.direction, -1);
  const arrays = calibrationArrays(c, rig);
  assert.deepEqual(Array.from(arrays.zeroCounts), [1873.5, -3]);
  assert.deepEqual(Array.from(arrays.direction), [1, -1]);

  const bad = (name: string, doc: unknown) => {
    const f = join(dir, `${name}.json`);
    writeFileSync(f, JSON.stringify(doc));
    return f;
  };
  assert.throws(() => readCalibration(bad("nozero", { schema: 1, rig: "furuta", joints: { arm_joint: {} } })), /joints\.arm_joint\.zeroCounts: required/);
  assert.throws(() => readCalibration(bad("dir", { schema: 1, rig: "furuta", joints: { arm_joint: { zeroCounts: 1, direction: 0 } } })), /joints\.arm_joint\.direction: expected 1 or -1/);
  assert.throws(() => readCalibration(bad("version", { schema: 2, rig: "furuta", joints: { arm_joint: { zeroCounts: 1 } } })), /schema: version 2 is not readable/);
  assert.throws(() => readCalibration(bad("missing", { schema: 1, rig: "furuta", joints: { arm_joint: { zeroCounts: 1 } } }), rig), /missing\.json: joints\.pendulum_joint: missing: rig furuta reads this joint/);
  assert.throws(() => readCalibration(bad("other", { schema: 1, rig: "qube", joints: { arm_joint: { zeroCounts: 1 } } }), rig), /rig: the calibration is for rig "qube", not "furuta"/);
  assert.throws(() => writeCalibration(join(dir, "w.json"), { schema: 1, rig: "furuta", joints: {} }), /w\.json: joints: no joints calibrated/);
});

test("units: volts to Goal PWM rounds symmetrically and never exceeds 443; counts, velocity and current convert", () => {
  const u = RigUnits.of(loadRigConfig("furuta"));
  assert.equal(u.voltsToPwm(6), 443);
  assert.equal(u.voltsToPwm(-6), -443);
  assert.equal(u.voltsToPwm(12), 443);
  assert.equal(u.voltsToPwm(-100), -443);
  assert.equal(u.voltsToPwm(1), 74); // 73.75
  assert.equal(u.voltsToPwm(-1), -74);
  assert.ok(Object.is(u.voltsToPwm(-0.001), 0));
  assert.throws(() => u.voltsToPwm(NaN), /NaN V cannot be sent/);
  assert.ok(Math.abs(u.pwmToVolts(885) - 12) < 1e-12);
  assert.ok(Math.abs(u.countsToRad(2048 + 1024, 2048, 1) - Math.PI / 2) < 1e-12);
  assert.ok(Math.abs(u.countsToRad(2048 + 1024, 2048, -1) + Math.PI / 2) < 1e-12);
  assert.ok(Math.abs(u.velocityToRadPerSec(100, 1) - (100 * 0.229 * 2 * Math.PI) / 60) < 1e-12);
  assert.equal(u.radPerSecToVelocity(u.velocityToRadPerSec(-37, 1) - 1e-9), -37);
  assert.ok(Math.abs(u.currentToAmps(100) - 0.269) < 1e-12);
  assert.equal(u.ampsToCurrent(0.269), 100);
});

test("safety config from the rig: indices by name, and implausible (uncalibrated) positions refused", () => {
  const rig = loadRigConfig("furuta");
  const c = rigSafetyConfig(rig, ["arm_joint", "pendulum_joint"], ["arm"]);
  assert.deepEqual(c.commandLimits, [6]);
  assert.equal(c.guards[0]!.joint, 0);
  assert.equal(c.guards[0]!.actuator, 0);
  assert.equal(c.guards[0]!.brakingDecel, rig.safety.guards[0]!.brakingDecel);
  assert.equal(implausiblePositions(rig, ["arm_joint", "pendulum_joint"], [1.9, 40]), undefined);
  assert.match(implausiblePositions(rig, ["arm_joint", "pendulum_joint"], [2.4, 0])!, /arm_joint reads 2\.400 rad, beyond its hard stops \[-2, 2\] rad: the calibration does not match/);
  assert.throws(() => rigSafetyConfig(rig, ["pendulum_joint"], ["arm"]), /safety refers to joint "arm_joint", which the hardware does not have/);
});
