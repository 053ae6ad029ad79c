import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { releaseRealtimePriority, requestRealtimePriority } from "../../robot/realtime.js";

test("priority 0 leaves the scheduling alone; out-of-range priorities are refused", () => {
  assert.deepEqual(requestRealtimePriority(0), { granted: false, scheduling: "time-shared (not requested)" });
  assert.throws(() => requestRealtimePriority(100), /1\.\.99/);
  assert.throws(() => requestRealtimePriority(2.5), /1\.\.99/);
});

test("raises a thread to SCHED_FIFO with reset-on-fork, or says why not and what to grant", { skip: process.platform !== "linux" }, async () => {
  const child = spawn("sleep", ["10"], { stdio: "ignore" });
  try {
    const r = requestRealtimePriority(50, child.pid!);
    const shown = execFileSync("chrt", ["-p", String(child.pid)]).toString();
    if (r.granted) {
      assert.equal(r.scheduling, "SCHED_FIFO 50");
      assert.match(shown, /SCHED_FIFO\|SCHED_RESET_ON_FORK/);
      assert.match(shown, /priority: 50/);
      releaseRealtimePriority(child.pid!);
      assert.match(execFileSync("chrt", ["-p", String(child.pid)]).toString(), /SCHED_OTHER/);
    } else {
      // An unprivileged workstation: the loop runs time-shared and the message says how to allow more.
      assert.match(r.problem ?? "", /CAP_SYS_NICE|rtprio|chrt/);
      assert.match(shown, /SCHED_OTHER/);
    }
  } finally {
    child.kill();
  }
});
