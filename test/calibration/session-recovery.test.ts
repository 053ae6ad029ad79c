import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setupTask } from "../../sim/env/sim-env.js";
import { getTask } from "../../sim/tasks/registry.js";
import { SimHardware } from "../../robot/hardware/sim-hardware.js";
import { BusSilenceError } from "../../robot/hardware/interface.js";
import { silentAt } from "../robot/silent-bus.js";
import { SessionLog } from "../../robot/log/session-log.js";
import { LockstepTicker } from "../../robot/control/control-loop.js";
import { TIMING_TOLERANT } from "../../robot/control/deadline-policy.js";
import { SafetyLayer } from "../../robot/safety.js";
import { SessionLoop, type Phase } from "../../calibration/session/session-loop.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-recovery-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const task = getTask("furuta");
const setup = setupTask(task, task.configSchema.parse({}, "task"));

/** Drives the arm gently for `cycles` cycles. */
function drive(cycles: number): Phase {
  let k = 0;
  return {
    name: "push the arm",
    drive: true,
    maxSeconds: 60,
    step(_frame, _seconds, command) {
      command[0] = 1;
      return ++k >= cycles;
    },
  };
}

async function runWith(recoveries: number, silent: number[]) {
  const sim = await SimHardware.create({ setup });
  const hw = silentAt(sim, silent);
  const log = SessionLog.create(join(dir, `r${recoveries}-${silent.join("-")}.mcap`), { session: "calibrate" });
  const loop = new SessionLoop({ hardware: hw, log, periodSec: 0.01, safety: new SafetyLayer({ commandLimits: [6], guards: [] }), deadlines: { ...TIMING_TOLERANT, recoveries }, ticker: (p) => new LockstepTicker(p) });
  try {
    await hw.activate();
    const r = await loop.run(drive(50));
    return { r, loop, activations: hw.activations, torque: sim.torqueEnabled };
  } finally {
    await log.close();
    await sim.close();
  }
}

test("a calibration phase carries on after the bus falls silent: torque off, re-activated, counted; beyond the rig's recoveries it fails", async () => {
  const ok = await runWith(2, [10, 30]);
  assert.equal(ok.r.cycles, 50);
  assert.equal(ok.loop.deadlineStats.recoveries, 2);
  assert.equal(ok.activations, 3, "activated at the start and after each silence");
  await assert.rejects(runWith(1, [10, 30]), (e: unknown) => e instanceof BusSilenceError);
  await assert.rejects(runWith(0, [10]), (e: unknown) => e instanceof BusSilenceError);
});
