import { test } from "node:test";
import assert from "node:assert/strict";
import { nowSec, PeriodicTimer } from "../../robot/timing.js";

const busy = (ms: number) => {
  const end = nowSec() + ms / 1000;
  while (nowSec() < end) {
    /* stand-in for a slow cycle */
  }
};

test("the schedule starts at the first wait: setup time after construction is not a miss", async () => {
  const timer = new PeriodicTimer(0.005);
  busy(20); // e.g. loading a policy between creating the timer and the first cycle
  const first = await timer.waitNext();
  assert.equal(first.missed, false);
  assert.equal(first.index, 0);
  const second = await timer.waitNext();
  assert.equal(second.missed, false);
  assert.ok(Math.abs(second.due - first.due - 0.005) < 1e-9, "ticks are one period apart");
  assert.ok(second.woke >= second.due, "never wakes before the tick");
});

test("a cycle that overruns a whole period is a miss, and the schedule restarts instead of bursting", async () => {
  const timer = new PeriodicTimer(0.005);
  await timer.waitNext();
  busy(12); // more than two periods
  const late = await timer.waitNext();
  assert.equal(late.missed, true);
  assert.equal(timer.misses, 1);
  const next = await timer.waitNext();
  assert.equal(next.missed, false, "the tick after a miss is on the new schedule");
  assert.ok(next.due - late.due > 0.004, "no catch-up burst: the next tick is a period after the restarted one");
});

test("holds the period over many ticks", async () => {
  const timer = new PeriodicTimer(0.004);
  const first = await timer.waitNext();
  let last = first;
  for (let i = 0; i < 25; i++) last = await timer.waitNext();
  assert.ok(last.due - first.due >= 25 * 0.004 - 1e-9);
  assert.ok(last.woke >= last.due);
});

test("rejects a non-positive period", () => {
  assert.throws(() => new PeriodicTimer(0), /period must be > 0/);
});

test("beforeTick runs once per tick, before the tick is due, and the tick still wakes on time", async () => {
  const calls: number[] = [];
  const timer = new PeriodicTimer(0.01, { beforeTick: () => calls.push(nowSec()) });
  await timer.waitNext(); // the first tick is due at once: nothing to wait for, nothing to warm
  const ticks = [];
  for (let i = 0; i < 5; i++) ticks.push(await timer.waitNext());
  assert.equal(calls.length, 5);
  ticks.forEach((t, i) => {
    assert.ok(calls[i]! < t.due, `call ${i} came ${((calls[i]! - t.due) * 1e6).toFixed(0)} us after its tick`);
    assert.ok(calls[i]! > t.due - 0.01, `call ${i} came a whole period early`);
    assert.ok(t.woke >= t.due);
  });
});
