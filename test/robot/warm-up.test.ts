import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setupTask } from "../../sim/env/sim-env.js";
import { getTask } from "../../sim/tasks/registry.js";
import { SimHardware } from "../../robot/hardware/sim-hardware.js";
import { HardwareError } from "../../robot/hardware/interface.js";
import { SessionLog } from "../../robot/log/session-log.js";
import { readSessionLog } from "../../robot/log/read-session-log.js";
import { LockstepTicker } from "../../robot/control/control-loop.js";
import { warmUp } from "../../robot/control/warm-up.js";
import { silentAt } from "./silent-bus.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-warm-up-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const task = getTask("furuta");
const setup = setupTask(task, task.configSchema.parse({}, "task"));

async function events(file: string): Promise<string[]> {
  const out: string[] = [];
  await readSessionLog(file, { onMessage: (m) => void (m.topic === "/events" && out.push(String(m.decode().msg))) });
  return out;
}

test("the warm-up reads at the loop's period with torque off, runs the loop's work on each state, writes nothing; a bus silence is harmless", async () => {
  const sim = await SimHardware.create({ setup });
  const hw = silentAt(sim, [3]);
  let writes = 0;
  hw.write = async () => void writes++;
  const log = SessionLog.create(join(dir, "warm.mcap"), { session: "deploy" });
  let bodies = 0;
  const t0 = performance.now();
  try {
    const n = await warmUp({ hardware: hw, periodSec: 0.01, retryForSec: 0.08, log, label: "deploy", seconds: 0.2, body: () => void bodies++ });
    const ms = performance.now() - t0;
    assert.equal(n, 20);
    assert.equal(hw.reads, 20);
    assert.equal(bodies, 19, "every state read reaches the loop's work; the silent read does not");
    assert.equal(writes, 0);
    assert.equal(sim.torqueEnabled, false);
    assert.ok(ms >= 150, `paced at the period: ${ms.toFixed(0)} ms for 20 cycles of 10 ms`);
  } finally {
    await log.close();
    await sim.close();
  }
  assert.ok((await events(log.file)).some((e) => /deploy: warmed up with 20 untimed cycles, torque off \(1 bus silence/.test(e)));
});

test("the warm-up stops on any other hardware error, and is skipped in simulated time", async () => {
  const sim = await SimHardware.create({ setup });
  const log = SessionLog.create(join(dir, "broken.mcap"), { session: "calibrate" });
  try {
    const broken = { ...silentAt(sim, []), read: async () => Promise.reject(new HardwareError("furuta: read: Sync Read to ID 1: CRC mismatch")) };
    await assert.rejects(warmUp({ hardware: broken, periodSec: 0.01, retryForSec: 0.09, log, label: "calibrate" }), /CRC mismatch/);
    const counted = silentAt(sim, []);
    assert.equal(await warmUp({ hardware: counted, periodSec: 0.01, retryForSec: 0.09, log, label: "calibrate", ticker: new LockstepTicker(0.01) }), 0);
    assert.equal(counted.reads, 0);
  } finally {
    await log.close();
    await sim.close();
  }
});
