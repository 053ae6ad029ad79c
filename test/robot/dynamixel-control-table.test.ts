import test from "node:test";
import assert from "node:assert/strict";
import {
  decodeRegisterValue,
  encodeRegisterValue,
  findRegister,
  formatRegisterValue,
  tableEnd,
  UnknownRegisterError,
} from "../../robot/dynamixel/control-table.js";
import { decodeHardwareError, hardwareErrorMask } from "../../robot/dynamixel/hardware-error.js";
import { XM430_W350, xm430Register } from "../../robot/dynamixel/xm430.js";

test("every address the rig page uses is described as the e-manual says", () => {
  // [name, address, size, signed, access, area]
  const expected: [string, number, number, boolean, string, string][] = [
    ["Model Number", 0, 2, false, "R", "EEPROM"],
    ["Firmware Version", 6, 1, false, "R", "EEPROM"],
    ["ID", 7, 1, false, "RW", "EEPROM"],
    ["Baud Rate", 8, 1, false, "RW", "EEPROM"],
    ["Operating Mode", 11, 1, false, "RW", "EEPROM"],
    ["PWM Limit", 36, 2, false, "RW", "EEPROM"],
    ["Torque Enable", 64, 1, false, "RW", "RAM"],
    ["LED", 65, 1, false, "RW", "RAM"],
    ["Hardware Error Status", 70, 1, false, "R", "RAM"],
    ["Bus Watchdog", 98, 1, false, "RW", "RAM"],
    ["Goal PWM", 100, 2, true, "RW", "RAM"],
    ["Goal Current", 102, 2, true, "RW", "RAM"],
    ["Goal Velocity", 104, 4, true, "RW", "RAM"],
    ["Goal Position", 116, 4, true, "RW", "RAM"],
    ["Present PWM", 124, 2, true, "R", "RAM"],
    ["Present Current", 126, 2, true, "R", "RAM"],
    ["Present Velocity", 128, 4, true, "R", "RAM"],
    ["Present Position", 132, 4, true, "R", "RAM"],
    ["Present Input Voltage", 144, 2, false, "R", "RAM"],
    ["Present Temperature", 146, 1, false, "R", "RAM"],
  ];
  for (const [name, address, size, signed, access, area] of expected) {
    const e = xm430Register(name);
    assert.deepEqual([e.name, e.address, e.size, e.signed, e.access, e.area], [name, address, size, signed, access, area]);
  }
  // EEPROM is exactly the area below 64; registers never overlap.
  for (const e of XM430_W350.entries) assert.equal(e.area === "EEPROM", e.address < 64, e.name);
  const sorted = [...XM430_W350.entries].sort((a, b) => a.address - b.address);
  for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]!.address >= sorted[i - 1]!.address + sorted[i - 1]!.size, sorted[i]!.name);
  assert.equal(tableEnd(XM430_W350), 147);
});

test("units and scales follow the rig page", () => {
  assert.equal(xm430Register("Present Current").scale, 2.69);
  assert.equal(xm430Register("Present Velocity").scale, 0.229);
  assert.equal(xm430Register("Bus Watchdog").scale, 20);
  assert.equal(formatRegisterValue(xm430Register("Goal PWM"), 885), "885 (100 %)");
  assert.equal(formatRegisterValue(xm430Register("Goal PWM"), -443), "-443 (-50.0565 %)");
  assert.equal(formatRegisterValue(xm430Register("Present Position"), 1024), "1024 (90 °)");
  assert.equal(formatRegisterValue(xm430Register("Operating Mode"), 16), "16 (PWM Control Mode)");
  assert.equal(formatRegisterValue(xm430Register("Hardware Error Status"), 0x24), "36 (Overheating Error, Overload Error)");
  assert.equal(formatRegisterValue(xm430Register("Bus Watchdog"), 5), "5 (100 ms)");
  assert.equal(formatRegisterValue(xm430Register("Bus Watchdog"), 255), "255 (tripped: goal writes refused until 0 is written)");
});

test("lookup ignores case, spaces and underscores, accepts addresses, and suggests near matches", () => {
  for (const q of ["goal_pwm", "GoalPWM", "Goal PWM", "goal-pwm", "GOAL_PWM", "100"]) assert.equal(xm430Register(q).address, 100, q);
  assert.equal(findRegister(XM430_W350, 132).name, "Present Position");
  assert.throws(
    () => xm430Register("goal_pwn"),
    (e: unknown) => e instanceof UnknownRegisterError && e.suggestions[0] === "Goal PWM" && /did you mean "Goal PWM"/.test(e.message),
  );
  assert.throws(
    () => xm430Register("present_pos"),
    (e: unknown) => e instanceof UnknownRegisterError && e.suggestions.includes("Present Position"),
  );
  assert.throws(() => xm430Register("watchdog"), /did you mean "Bus Watchdog"/);
  assert.throws(() => xm430Register("101"), /unknown XM430-W350 register "101"; did you mean "Goal PWM \(100\)"/);
});

test("values encode little-endian with sign, and refuse what does not fit", () => {
  const pos = xm430Register("Present Position");
  assert.deepEqual(encodeRegisterValue(pos, 166), Uint8Array.from([0xa6, 0, 0, 0]));
  assert.deepEqual(encodeRegisterValue(pos, -2), Uint8Array.from([0xfe, 0xff, 0xff, 0xff]));
  assert.equal(decodeRegisterValue(pos, Uint8Array.from([0xfe, 0xff, 0xff, 0xff])), -2);
  assert.equal(decodeRegisterValue(pos, Uint8Array.from([0x1f, 0x08, 0, 0])), 2079);
  const pwm = xm430Register("Goal PWM");
  assert.equal(decodeRegisterValue(pwm, encodeRegisterValue(pwm, -885)), -885);
  assert.equal(decodeRegisterValue(xm430Register("Model Number"), Uint8Array.from([0xfc, 0x03])), 1020);
  assert.throws(() => encodeRegisterValue(pwm, 40000), /Goal PWM \(100\) holds a signed 2-byte integer -32768..32767, got 40000/);
  assert.throws(() => encodeRegisterValue(xm430Register("LED"), -1), /LED \(65\) holds an unsigned 1-byte integer 0..255/);
  assert.throws(() => encodeRegisterValue(pwm, 1.5), /got 1.5/);
});

test("Hardware Error Status decodes by bit name", () => {
  assert.deepEqual(decodeHardwareError(0), { raw: 0, names: [] });
  assert.deepEqual(decodeHardwareError(0x01).names, ["Input Voltage Error"]);
  assert.deepEqual(decodeHardwareError(0x04).names, ["Overheating Error"]);
  assert.deepEqual(decodeHardwareError(0x08).names, ["Motor Encoder Error"]);
  assert.deepEqual(decodeHardwareError(0x10).names, ["Electrical Shock Error"]);
  assert.deepEqual(decodeHardwareError(0x20).names, ["Overload Error"]);
  assert.deepEqual(decodeHardwareError(0x23).names, ["Input Voltage Error", "unused bit 1", "Overload Error"]);
  assert.equal(hardwareErrorMask("overload"), 0x20);
  assert.equal(hardwareErrorMask("Input Voltage Error"), 0x01);
  assert.throws(() => hardwareErrorMask("overcurrent"), /unknown hardware error "overcurrent"; known: Input Voltage Error/);
});
