import test from "node:test";
import assert from "node:assert/strict";
import { Rng, hashKeys } from "../../common/rng.js";

test("the same seed gives the same stream; derived streams differ", () => {
  const a = new Rng(42), b = new Rng(42);
  for (let i = 0; i < 100; i++) assert.equal(a.next(), b.next());
  const c = Rng.derive(42, 1), d = Rng.derive(42, 2);
  assert.notEqual(c.nextU32(), d.nextU32());
  assert.notEqual(hashKeys(1, 2), hashKeys(2, 1));
});

test("uniform and normal have the right moments", () => {
  const r = new Rng(7);
  let s = 0, s2 = 0, n = 20000;
  for (let i = 0; i < n; i++) { const x = r.normal(); s += x; s2 += x * x; }
  assert.ok(Math.abs(s / n) < 0.03);
  assert.ok(Math.abs(s2 / n - 1) < 0.05);
  let u = 0;
  for (let i = 0; i < n; i++) { const x = r.uniform(2, 4); assert.ok(x >= 2 && x < 4); u += x; }
  assert.ok(Math.abs(u / n - 3) < 0.02);
});

test("state round-trips for checkpoints", () => {
  const r = new Rng(3);
  r.normal();
  const st = r.getState();
  const x = [r.next(), r.normal(), r.normal()];
  const q = new Rng(0);
  q.setState(st);
  assert.deepEqual([q.next(), q.normal(), q.normal()], x);
});
