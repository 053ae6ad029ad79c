import test from "node:test";
import assert from "node:assert/strict";
import { ObservationBuilder } from "../../sim/observation.js";
import { ConfigError } from "../../common/schema.js";

const cfg = {
  terms: [
    { term: "sin" as const, joint: "a", scale: 1 },
    { term: "cos" as const, joint: "a", scale: 1 },
    { term: "velocity" as const, joint: "b", scale: 0.5 },
    { term: "previous_action" as const, actuator: "m", scale: 1 },
  ],
  velocityFilter: 1,
};

test("builds sin/cos, differenced velocity and previous action", () => {
  const b = new ObservationBuilder(cfg, ["a", "b"], ["m"], 0.01);
  const out = new Float32Array(4);
  b.build([0.3, 1.0], [0.25], out);
  assert.ok(Math.abs(out[0]! - Math.sin(0.3)) < 1e-7);
  assert.ok(Math.abs(out[1]! - Math.cos(0.3)) < 1e-7);
  assert.equal(out[2], 0); // no velocity before the second reading
  assert.equal(out[3], 0.25);
  b.build([0.3, 1.02], [0.25], out);
  assert.ok(Math.abs(out[2]! - 0.5 * 2) < 1e-5);
  b.reset();
  b.build([0.3, 5], [0], out);
  assert.equal(out[2], 0);
});

test("low-pass filtered velocity", () => {
  const b = new ObservationBuilder({ ...cfg, velocityFilter: 0.5 }, ["a", "b"], ["m"], 0.1);
  const out = new Float32Array(4);
  b.build([0, 0], [0], out);
  b.build([0, 1], [0], out); // raw 10 rad/s, filtered 5, scaled 2.5
  assert.ok(Math.abs(out[2]! - 2.5) < 1e-6);
});

test("unknown joints and actuators are named; NaN readings refused", () => {
  assert.throws(() => new ObservationBuilder(cfg, ["a"], ["m"], 0.01), (e: unknown) => e instanceof ConfigError && /terms\[2\]\.joint/.test(e.message));
  assert.throws(() => new ObservationBuilder(cfg, ["a", "b"], ["x"], 0.01), /terms\[3\]\.actuator/);
  const b = new ObservationBuilder(cfg, ["a", "b"], ["m"], 0.01);
  assert.throws(() => b.build([NaN, 0], [0], new Float32Array(4)), /joint a position is NaN/);
});

test("layout names each element with unit and source", () => {
  const b = new ObservationBuilder(cfg, ["a", "b"], ["m"], 0.01);
  assert.deepEqual(b.layout().map((e) => e.name), ["sin_a", "cos_a", "velocity_b", "previous_action_m"]);
  assert.equal(b.layout()[2]!.unit, "rad/s x 0.5");
});
