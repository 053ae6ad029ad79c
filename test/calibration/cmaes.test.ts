import { test } from "node:test";
import assert from "node:assert/strict";
import { Cmaes, cmaesMinimize } from "../../calibration/cmaes.js";

function rosenbrock(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i + 1 < x.length; i++) s += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
  return s;
}

/** Axis-parallel ellipsoid with condition number 1e6. */
function ellipsoid(x: Float64Array): number {
  const n = x.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += 1e6 ** (i / (n - 1)) * x[i]! ** 2;
  return s;
}

/** The same ellipsoid rotated, so that the covariance must learn off-diagonal terms. */
function rotatedEllipsoid(x: Float64Array): number {
  const n = x.length;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) y[i]! += x[j]!;
  return ellipsoid(y);
}

test("minimizes 10-D Rosenbrock to the optimum at (1, ..., 1)", () => {
  const r = cmaesMinimize(rosenbrock, { x0: new Float64Array(10).fill(0), sigma0: 0.5, seed: 3, tolFun: 1e-14 });
  assert.ok(r.f < 1e-10, `f = ${r.f} after ${r.evaluations} evaluations (${r.stop})`);
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(r.x[i]! - 1) < 1e-4, `x[${i}] = ${r.x[i]}`);
  assert.notEqual(r.stop, "maxEvals");
});

test("learns an ill-conditioned rotated ellipsoid (covariance adaptation, not just step size)", () => {
  const r = cmaesMinimize(rotatedEllipsoid, { x0: new Float64Array(8).fill(1), sigma0: 1, seed: 5, tolFun: 1e-16 });
  assert.ok(r.f < 1e-10, `f = ${r.f} (${r.stop}, ${r.evaluations} evaluations)`);
  // Without covariance learning (pure isotropic search with step-size control) this takes
  // on the order of condition-number x n evaluations; CMA-ES needs a few thousand.
  assert.ok(r.evaluations < 20000, `${r.evaluations} evaluations`);
});

test("box bounds: every evaluated point is feasible and a constrained optimum is found on the boundary", () => {
  const lower = [0.5, -1, -1];
  const upper = [2, 1, 1];
  let outside = 0;
  const f = (x: Float64Array) => {
    for (let i = 0; i < 3; i++) if (x[i]! < lower[i]! || x[i]! > upper[i]!) outside++;
    return x[0]! ** 2 + (x[1]! - 3) ** 2 + x[2]! ** 2; // unconstrained optimum (0, 3, 0) lies outside
  };
  const r = cmaesMinimize(f, { x0: [1.5, 0, 0.5], sigma0: 0.5, lower, upper, seed: 2, tolFun: 1e-14 });
  assert.equal(outside, 0);
  assert.ok(Math.abs(r.x[0]! - 0.5) < 1e-6, `x0 = ${r.x[0]}`);
  assert.ok(Math.abs(r.x[1]! - 1) < 1e-6, `x1 = ${r.x[1]}`);
  assert.ok(Math.abs(r.x[2]!) < 1e-4, `x2 = ${r.x[2]}`);
});

test("a run is a pure function of its seed", () => {
  const opts = { x0: [0, 0, 0, 0], sigma0: 0.3, maxEvals: 400 };
  const a = cmaesMinimize(rosenbrock, { ...opts, seed: 11 });
  const b = cmaesMinimize(rosenbrock, { ...opts, seed: 11 });
  const c = cmaesMinimize(rosenbrock, { ...opts, seed: 12 });
  assert.deepEqual(Array.from(a.x), Array.from(b.x));
  assert.equal(a.f, b.f);
  assert.notDeepEqual(Array.from(a.x), Array.from(c.x));
});

test("ask/tell: maxEvals stops the search, NaN values rank last", () => {
  const es = new Cmaes({ x0: [3, 3], sigma0: 1, maxEvals: 60, seed: 1 });
  while (!es.stop) {
    const xs = es.ask();
    es.tell(xs.map((x, k) => (k === 0 ? NaN : x[0]! ** 2 + x[1]! ** 2)));
  }
  assert.equal(es.stop, "maxEvals");
  assert.ok(es.evaluations >= 60);
  assert.ok(Number.isFinite(es.best.f) && es.best.f < 18);
});

test("bad options are errors naming the option", () => {
  assert.throws(() => new Cmaes({ x0: [], sigma0: 1 }), /x0/);
  assert.throws(() => new Cmaes({ x0: [0], sigma0: 0 }), /sigma0/);
  assert.throws(() => new Cmaes({ x0: [0, 0], sigma0: 1, lower: [0] }), /lower has 1 entries/);
  assert.throws(() => new Cmaes({ x0: [0], sigma0: 1, lower: [1], upper: [0] }), /lower\[0\]/);
  assert.throws(() => new Cmaes({ x0: [NaN], sigma0: 1 }), /x0\[0\]/);
  const es = new Cmaes({ x0: [0], sigma0: 1 });
  assert.throws(() => es.tell([1]), /without a preceding ask/);
});
