import test from "node:test";
import assert from "node:assert/strict";
import { SafetyLayer, SafetyFault } from "../../robot/safety.js";

const layer = () =>
  new SafetyLayer({
    commandLimits: [6],
    guards: [{ joint: 0, actuator: 0, lower: -2, upper: 2, softZone: 0.3, margin: 0.1, brakingDecel: 40, direction: 1 }],
  });

test("clamps commands to the limit", () => {
  const s = layer(), out = new Float64Array(1);
  assert.equal(s.filter([9], [0, 0], [0, 0], out), "clamped");
  assert.equal(out[0], 6);
  assert.equal(s.filter([-3], [0, 0], [0, 0], out), "none");
  assert.equal(out[0], -3);
});

test("a non-finite command or state is a fault", () => {
  const out = new Float64Array(1);
  assert.throws(() => layer().filter([NaN], [0, 0], [0, 0], out), SafetyFault);
  assert.throws(() => layer().filter([1], [NaN, 0], [0, 0], out), /not finite/);
});

test("brakes when the joint cannot otherwise stop before the hard stop", () => {
  const s = layer(), out = new Float64Array(1);
  // 10 rad/s needs 10^2/80 = 1.25 rad to stop; at q = 0.7 there are 1.3 - 0.1 margin left: brake.
  assert.equal(s.filter([6], [0.7, 0], [10, 0], out), "braking");
  assert.equal(out[0], -6);
  // Moving away from the stop: no braking.
  assert.equal(s.filter([6], [0.7, 0], [-10, 0], out), "none");
  // Negative side mirrors.
  assert.equal(s.filter([-6], [-0.7, 0], [-10, 0], out), "braking");
  assert.equal(out[0], 6);
});

test("inside the soft zone, commands toward the stop are zeroed, away are kept", () => {
  const s = layer(), out = new Float64Array(1);
  assert.equal(s.filter([2], [1.8, 0], [0, 0], out), "soft_zone");
  assert.equal(out[0], 0);
  assert.equal(s.filter([-2], [1.8, 0], [0, 0], out), "none");
  assert.equal(out[0], -2);
  assert.equal(s.counts.soft_zone, 1);
});

test("a late state is judged where the joint is now: a stale reading near the stop brakes sooner", () => {
  const s = layer(), out = new Float64Array(1);
  // 4 rad/s needs 16/80 = 0.2 rad to stop; at q = 1.6 there is 0.3 left before the margin: on time, no braking.
  assert.equal(s.filter([1], [1.6, 0], [4, 0], out, 0), "none");
  assert.equal(s.filter([1], [1.6, 0], [4, 0], out), "none");
  // Read 30 ms ago: the arm has moved 0.12 rad on, 0.18 rad are left: brake.
  assert.equal(s.filter([1], [1.6, 0], [4, 0], out, 0.03), "braking");
  assert.equal(out[0], -6);
  assert.throws(() => s.filter([1], [0, 0], [0, 0], out, -1), /stateAgeSec must be >= 0/);
});
