import test from "node:test";
import assert from "node:assert/strict";
import { ParamTable } from "../../sim/params.js";
import { Randomizer } from "../../sim/randomization/randomizer.js";
import { randomizationSpecSchema } from "../../sim/randomization/spec.js";
import { Rng } from "../../common/rng.js";
import { ConfigError } from "../../common/schema.js";

const table = new ParamTable([
  { name: "links.pendulum.mass", nominal: 0.024, unit: "kg", stage: "model" },
  { name: "actuators.arm.km", nominal: 0.042, unit: "N m/A", stage: "runtime" },
  { name: "actuators.arm.latency", nominal: 0, unit: "s", stage: "runtime" },
  { name: "joints.arm_joint.disturbance", nominal: 0, unit: "N m", stage: "runtime" },
  { name: "gravity", nominal: 9.81, unit: "m/s^2", stage: "model" },
]);

const spec = randomizationSpecSchema.parse(
  [
    { target: "links.pendulum.mass", low: 0.8, high: 1.2 },
    { target: "actuators.arm.km", distribution: "loguniform", low: 0.5, high: 2 },
    { target: "actuators.arm.latency", mode: "absolute", low: 0, high: 0.01 },
    { target: "joints.arm_joint.disturbance", distribution: "normal", mode: "absolute", mean: 0, std: 0.01, when: "step" },
  ],
  "randomization",
);

test("draws are reproducible from the seed and within range", () => {
  const r = new Randomizer(table, spec);
  const a = new Float64Array(table.size), b = new Float64Array(table.size);
  const pa = new Float32Array(r.privilegedSize), pb = new Float32Array(r.privilegedSize);
  const ra = new Rng(5), rb = new Rng(5);
  for (let k = 0; k < 200; k++) {
    r.drawEpisode(ra, a, pa);
    r.drawEpisode(rb, b, pb);
    assert.deepEqual(a, b);
    assert.deepEqual(pa, pb);
    assert.ok(a[0]! >= 0.024 * 0.8 && a[0]! <= 0.024 * 1.2);
    assert.ok(a[1]! >= 0.042 * 0.5 && a[1]! <= 0.042 * 2);
    assert.ok(a[2]! >= 0 && a[2]! <= 0.01);
    assert.equal(a[4], 9.81); // not randomized: nominal
    for (const z of pa) assert.ok(z >= -1 && z <= 1, `normalized ${z}`);
  }
  assert.deepEqual(r.privilegedNames, ["links.pendulum.mass", "actuators.arm.km", "actuators.arm.latency"]);
});

test("per-step entries change every step; episode values stay", () => {
  const r = new Randomizer(table, spec);
  const rng = new Rng(1);
  const ep = new Float64Array(table.size), st = new Float64Array(table.size);
  r.drawEpisode(rng, ep);
  r.applyStep(rng, ep, st);
  const d1 = st[3];
  r.applyStep(rng, ep, st);
  assert.notEqual(st[3], d1);
  assert.equal(st[0], ep[0]);
});

test("privileged normalization round-trips through denormalize", () => {
  const r = new Randomizer(table, spec);
  const v = new Float64Array(table.size), p = new Float32Array(3);
  r.drawEpisode(new Rng(9), v, p);
  const back = r.denormalize(p);
  assert.ok(Math.abs(back["links.pendulum.mass"]! - v[0]!) < 1e-7);
  assert.ok(Math.abs(back["actuators.arm.km"]! - v[1]!) / v[1]! < 1e-6);
  const z = new Float32Array(3);
  r.privilegedOf(table.nominal(), z);
  assert.ok(Math.abs(z[0]!) < 1e-7); // nominal mass is the centre of 0.8..1.2
});

test("unknown targets and impossible entries are load-time errors naming the field", () => {
  assert.throws(
    () => new Randomizer(table, randomizationSpecSchema.parse([{ target: "links.pendulum.mas", low: 0.9, high: 1.1 }], "randomization")),
    (e: unknown) => e instanceof ConfigError && e.path === "randomization[0].target" && /did you mean links\.pendulum\.mass/.test(e.message),
  );
  assert.throws(() => new Randomizer(table, randomizationSpecSchema.parse([{ target: "gravity", low: 0.9, high: 1.1, when: "step" }], "r")), /can only be drawn per episode/);
  assert.throws(() => new Randomizer(table, randomizationSpecSchema.parse([{ target: "actuators.arm.latency", low: 0.9, high: 1.1 }], "r")), /nominal value of 0/);
  assert.throws(() => new Randomizer(table, randomizationSpecSchema.parse([{ target: "gravity", low: 1.1, high: 0.9 }], "r")), /high: must be >= low/);
  assert.throws(() => randomizationSpecSchema.parse([{ target: "gravity", distribution: "beta" }], "randomization"), /randomization\[0\]\.distribution/);
  assert.throws(() => new Randomizer(table, randomizationSpecSchema.parse([{ target: "gravity", low: 0.9, high: 1.1 }, { target: "gravity", low: 0.9, high: 1.1 }], "r")), /randomized twice/);
});

const unitTable = new ParamTable([
  { name: "actuators.arm.latency", nominal: 0, unit: "s", stage: "runtime" },
  { name: "sensors.arm.offset", nominal: 0, unit: "rad", stage: "runtime" },
  { name: "joints.arm_joint.damping", nominal: 5e-4, unit: "N m s/rad", stage: "model" },
  { name: "actuators.arm.deadZone", nominal: 0.2, unit: "V", stage: "runtime" },
  { name: "links.pendulum.mass", nominal: 0.024, unit: "kg", stage: "model" },
]);

test("absolute figures with units are converted to the target's unit and draw exactly as the plain numbers do", () => {
  const plain = randomizationSpecSchema.parse(
    [
      { target: "actuators.arm.latency", mode: "absolute", low: 0, high: 0.01 },
      { target: "sensors.arm.offset", distribution: "normal", mode: "absolute", mean: 0, std: (2 * Math.PI) / 180, min: -(5 * Math.PI) / 180, max: (5 * Math.PI) / 180 },
      { target: "joints.arm_joint.damping", distribution: "loguniform", mode: "absolute", low: 2.5e-4, high: 1e-3 },
      { target: "actuators.arm.deadZone", mode: "absolute", low: 0, high: 0.4 },
      { target: "links.pendulum.mass", mode: "scale", low: 0.8, high: 1.2 },
    ],
    "randomization",
  );
  const withUnits = randomizationSpecSchema.parse(
    [
      { target: "actuators.arm.latency", mode: "absolute", low: "0 ms", high: "10 ms" },
      { target: "sensors.arm.offset", distribution: "normal", mode: "absolute", mean: "0 deg", std: "2 deg", min: "-5 deg", max: "5 deg" },
      { target: "joints.arm_joint.damping", distribution: "loguniform", mode: "absolute", low: "0.25 mN m s/rad", high: "1e-3 N m s/rad" },
      { target: "actuators.arm.deadZone", mode: "absolute", low: 0, high: "400 mV" },
      { target: "links.pendulum.mass", mode: "scale", low: "80 %", high: 1.2 },
    ],
    "randomization",
  );
  const a = new Randomizer(unitTable, plain), b = new Randomizer(unitTable, withUnits);
  const ra = a.privilegedRanges(), rb = b.privilegedRanges();
  for (let k = 0; k < ra.length; k++) {
    for (const f of ["low", "high", "center", "halfRange"] as const) assert.ok(Math.abs(ra[k]![f] - rb[k]![f]) <= 1e-14 * Math.max(1, Math.abs(ra[k]![f])), `${ra[k]!.name}.${f}: ${ra[k]![f]} vs ${rb[k]![f]}`);
  }
  const va = new Float64Array(unitTable.size), vb = new Float64Array(unitTable.size);
  const ga = new Rng(4), gb = new Rng(4);
  for (let i = 0; i < 20; i++) {
    a.drawEpisode(ga, va);
    b.drawEpisode(gb, vb);
    for (let k = 0; k < va.length; k++) assert.ok(Math.abs(va[k]! - vb[k]!) <= 1e-12 * Math.max(1e-3, Math.abs(va[k]!)), `draw ${i}, ${unitTable.entries[k]!.name}: ${va[k]} vs ${vb[k]}`);
  }
  assert.ok(vb[1]! >= -(5 * Math.PI) / 180 - 1e-15 && vb[1]! <= (5 * Math.PI) / 180 + 1e-15);
});

test("a figure whose unit does not fit the target, or does not parse, names the field", () => {
  const bind = (entry: object) => new Randomizer(unitTable, randomizationSpecSchema.parse([entry], "randomization"));
  const refused = (entry: object, path: string, pattern: RegExp) =>
    assert.throws(() => bind(entry), (e: unknown) => e instanceof ConfigError && e.path === path && pattern.test(e.message), JSON.stringify(entry));
  refused({ target: "actuators.arm.latency", mode: "absolute", low: 0, high: "2 V" }, "randomization[0].high", /expected a time \(s\), got "2 V"/);
  refused({ target: "actuators.arm.deadZone", mode: "absolute", low: "0 V", high: "6 m" }, "randomization[0].high", /expected a voltage \(V\), got "6 m"/);
  refused({ target: "sensors.arm.offset", distribution: "normal", mode: "absolute", mean: 0, std: "2 degrees please" }, "randomization[0].std", /cannot read "2 degrees please"/);
  refused({ target: "sensors.arm.offset", distribution: "normal", mode: "absolute", mean: 0, std: "-2 deg" }, "randomization[0].std", /must be >= 0/);
  refused({ target: "links.pendulum.mass", mode: "scale", low: "20 g", high: 1.2 }, "randomization[0].low", /expected a plain number, got "20 g": "mode": "scale" multiplies links\.pendulum\.mass's nominal value by a plain factor .*"mode": "absolute" takes a mass \(kg\)/);
  refused({ target: "links.pendulum.mass", mode: "absolute", low: "20 g", high: "30 s" }, "randomization[0].high", /expected a mass \(kg\), got "30 s"/);
  assert.throws(() => randomizationSpecSchema.parse([{ target: "gravity", low: true, high: 1 }], "randomization"), /randomization\[0\]\.low: expected a number or a string with a unit/);
});
