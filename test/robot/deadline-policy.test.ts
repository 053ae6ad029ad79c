import test from "node:test";
import assert from "node:assert/strict";
import { DeadlineMonitor, lateCause } from "../../robot/control/deadline-policy.js";

const limits = { recoveries: 0, staleStateSec: 0.05, maxConsecutiveLate: 3, missRate: { windowSec: 0.1, maxFraction: 0.4 } };

test("stale state: the gap between fresh states, not the number of late cycles", () => {
  const m = new DeadlineMonitor(limits, 0.01);
  assert.equal(m.freshState(0), undefined);
  assert.equal(m.freshState(0.04), undefined);
  assert.ok(Math.abs(m.readSlackSeconds(0.05) - 0.04) < 1e-12);
  assert.match(m.freshState(0.1)!, /no fresh state for 60\.0 ms, more than the stale-state limit of 50 ms/);
  assert.ok(Math.abs(m.stats.longestStaleSec - 0.06) < 1e-12);
});

test("late cycles in a row and the miss rate over the window", () => {
  const m = new DeadlineMonitor(limits, 0.01);
  for (let i = 0; i < 3; i++) assert.equal(m.cycle(true, "read"), undefined);
  assert.match(m.cycle(true, "read")!, /4 late cycles in a row, more than the limit of 3/);
  // 10-cycle window, at most 4 late: a fifth late cycle within it breaks the rate even with on-time cycles between.
  const r = new DeadlineMonitor(limits, 0.01);
  const pattern = [true, false, true, false, true, false, true, false];
  for (const late of pattern) assert.equal(r.cycle(late, "scheduling"), undefined);
  assert.match(r.cycle(true, "scheduling")!, /5 late cycles in the last 10 \(50\.0 %\), more than the limit of 40\.0 %/);
  assert.equal(r.stats.causes.scheduling, 5);
  // Once old late cycles leave the window, the same pattern passes.
  const s = new DeadlineMonitor(limits, 0.01);
  for (let i = 0; i < 100; i++) assert.equal(s.cycle(i % 3 === 0, "write"), undefined);
});

test("the cause of a late cycle is the part that took longest", () => {
  assert.equal(lateCause({ scheduling: 0.001, read: 0.012, inference: 0.0003, write: 0.0002 }), "read");
  assert.equal(lateCause({ scheduling: 0.02, read: 0.001, inference: 0.0003, write: 0.0002 }), "scheduling");
  assert.equal(lateCause({ scheduling: 0, read: 0.001, inference: 0.006, write: 0.0002 }), "inference");
});
