import test from "node:test";
import assert from "node:assert/strict";
import { ConfigError, obj } from "../../common/schema.js";
import { quantity, quantityInput, quantityName, toUnit } from "../../common/units.js";

test("each accepted form converts to the field's unit", () => {
  const cases: [input: string | number, unit: string, expected: number][] = [
    ["10 ms", "s", 0.01],
    ["10 ms", "ms", 10],
    ["0.1 s", "ms", 100],
    ["6 V", "V", 6],
    ["6000 mV", "V", 6],
    ["0.3 rad/s", "rad/s", 0.3],
    ["5 deg", "rad", (5 * Math.PI) / 180],
    ["-90 deg", "rad", -Math.PI / 2],
    ["2.3e-4 kg m^2", "kg m^2", 2.3e-4],
    ["2.3e-4 kg*m^2", "kg m^2", 2.3e-4],
    ["230 g cm^2", "kg m^2", 2.3e-5],
    ["1 Mbaud", "baud", 1e6],
    ["57.6 kbaud", "baud", 57600],
    ["0.229 rpm", "rad/s", (0.229 * 2 * Math.PI) / 60],
    ["60 rpm", "rpm", 60],
    ["0.002 N m s/rad", "N m s/rad", 0.002],
    ["42 mN m/A", "N m/A", 0.042],
    ["8.4 ohm", "ohm", 8.4],
    ["2 kohm", "ohm", 2000],
    ["250 us", "us", 250],
    ["15 mm", "m", 0.015],
    ["9.81 m/s^2", "m/s^2", 9.81],
    ["50 Hz", "Hz", 50],
    ["80 %", "scale", 0.8],
    ["120%", "", 1.2],
    ["1.1", "scale", 1.1],
    [0.01, "s", 0.01],
    [6, "V", 6],
  ];
  for (const [input, unit, expected] of cases) {
    const got = toUnit(input, unit, "x");
    assert.ok(Math.abs(got - expected) <= 1e-14 * Math.max(1, Math.abs(expected)), `${JSON.stringify(input)} in ${unit}: got ${got}, expected ${expected}`);
  }
});

test("a unit of the wrong kind names the field and the quantity", () => {
  const wrong: [input: string, unit: string, pattern: RegExp][] = [
    ["6 m", "V", /^safety\.commandLimits\.arm: expected a voltage \(V\), got "6 m"$/],
    ["10 ms", "V", /expected a voltage \(V\), got "10 ms"/],
    ["5 deg", "s", /expected a time \(s\), got "5 deg"/],
    ["1 Hz", "rad/s", /expected an angular velocity \(rad\/s\), got "1 Hz"/],
    ["2.3e-4 kg m", "kg m^2", /expected a moment of inertia \(kg m\^2\)/],
    ["1 MHz", "baud", /expected a symbol rate \(baud\)/],
    ["20 %", "V", /expected a voltage \(V\), got "20 %"/],
    ["1.2 kg", "scale", /expected a plain number, got "1.2 kg"/],
    ["6", "V", /expected a voltage \(V\), got "6"; a string needs its unit/],
  ];
  for (const [input, unit, pattern] of wrong) {
    assert.throws(() => toUnit(input, unit, "safety.commandLimits.arm"), (e: unknown) => e instanceof ConfigError && e.path === "safety.commandLimits.arm" && pattern.test(e.message), `${input} as ${unit}`);
  }
});

test("an unparseable string names the field", () => {
  for (const input of ["six volts", "6 volts!", "V", "6 V V V /", "1e V"]) {
    assert.throws(() => toUnit(input, "V", "bus.timeoutMs"), (e: unknown) => e instanceof ConfigError && e.path === "bus.timeoutMs" && /cannot read|has no number/.test(e.problem), input);
  }
  assert.throws(() => toUnit(true, "V", "a.b"), /a\.b: expected a number or a string with a unit/);
  assert.throws(() => toUnit(Number.NaN, "V", "a.b"), /a\.b: expected a finite number/);
});

test("quantity fields: numbers as before, strings converted, ranges checked in the field's unit", () => {
  const S = obj({
    watchdogMs: quantity("ms", undefined, { min: 20, max: 2540 }),
    supplyVolts: quantity("V", 12, { min: 0, exclusiveMin: true }),
    baudRate: quantity("baud", undefined, { integer: true, min: 1 }),
  });
  assert.deepEqual(S.parse({ watchdogMs: 100, baudRate: 1000000 }, "rig"), { watchdogMs: 100, supplyVolts: 12, baudRate: 1000000 });
  assert.deepEqual(S.parse({ watchdogMs: "0.1 s", supplyVolts: "12 V", baudRate: "115.2 kbaud" }, "rig"), { watchdogMs: 100, supplyVolts: 12, baudRate: 115200 });
  assert.throws(() => S.parse({ watchdogMs: "10 us", baudRate: 1 }, "rig"), /^ConfigError: rig\.watchdogMs: expected a number >= 20 <= 2540, got 0\.01 ms \(from "10 us"\)$/);
  assert.throws(() => S.parse({ watchdogMs: 10, baudRate: 1 }, "rig"), /rig\.watchdogMs: expected a number >= 20 <= 2540, got 10$/);
  assert.throws(() => S.parse({ watchdogMs: "100 ms", baudRate: "1.5 baud" }, "rig"), /rig\.baudRate: expected an integer >= 1, got 1\.5 baud/);
  assert.throws(() => S.parse({ watchdogMs: "100 V", baudRate: 1 }, "rig"), /rig\.watchdogMs: expected a time \(ms\), got "100 V"/);
  assert.throws(() => S.parse({ baudRate: 1 }, "rig"), /rig\.watchdogMs: required/);
});

test("quantityInput keeps what was written for later conversion, and refuses what can never be a figure", () => {
  const q = quantityInput();
  assert.equal(q.parse(0.5, "p"), 0.5);
  assert.equal(q.parse("5 ms", "p"), "5 ms");
  assert.throws(() => q.parse("", "r[0].low"), /r\[0\]\.low: expected a number or a string/);
  assert.throws(() => q.parse(null, "r[0].low"), /r\[0\]\.low: expected a number or a string/);
  assert.throws(() => q.parse([1], "r[0].low"), /r\[0\]\.low: expected a number or a string/);
});

test("quantity names for messages", () => {
  assert.equal(quantityName("V"), "a voltage (V)");
  assert.equal(quantityName("ms"), "a time (ms)");
  assert.equal(quantityName("N m s/rad"), "a rotational damping (N m s/rad)");
  assert.equal(quantityName("scale"), "a plain number");
  assert.equal(quantityName("kg/m"), "a quantity in kg/m");
  // A field unit mathjs does not know is a programming error, said as such (the parameter table test catches it).
  assert.throws(() => quantityName("lux"), /unit "lux" of a config field or parameter is not a unit mathjs knows/);
  assert.throws(() => toUnit("3 V", "bogons", "x"), /unit "bogons" of a config field or parameter is not a unit mathjs knows/);
});
