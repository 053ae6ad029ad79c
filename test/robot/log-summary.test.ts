import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../run-cli.js";
import { SessionLog } from "../../robot/log/session-log.js";
import { percentiles } from "../../robot/log/summarize.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-log-summary-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000_000_000n;
const ms = (v: number) => T0 + BigInt(Math.round(v * 1e6));
/** The logs' clock (start and end of session); messages carry their own times. */
let clock = ms(0);

const run = (argv: string[]) => runCli(argv);

/** 2 s at 500 Hz: the period alternates 1.9/2.1 ms, with 3 misses; `events` info events and 2 errors. */
async function writeRun(file: string, events: number) {
  const log = SessionLog.create(file, { session: "deploy", metadata: { policy: "furuta.onnx" }, closeOnExit: false, now: () => clock });
  for (let i = 0; i < 1000; i++) {
    const t = ms(i * 2);
    log.jointState({ name: ["arm_joint", "pendulum_joint"], position: [0, 0], velocity: [0, 0], effort: [] }, t);
    log.command([0], t);
    log.timing({ cycle: i, periodMs: i % 2 ? 2.1 : 1.9, targetPeriodMs: 2, readMs: 0.5, inferMs: 0.25, writeMs: 0.125, deadlineMissed: i === 10 || i === 500 || i === 990, staleMs: i === 500 ? 14.5 : 2, lateCause: i === 10 ? "scheduling" : i === 500 || i === 990 ? "read" : "" }, t);
  }
  for (let k = 0; k < events; k++) log.event("info", `step ${k}`, { time: ms(k) });
  log.event("error", "deadline missed at cycle 500", { name: "loop", time: ms(1000) });
  log.event("fatal", "torque off", { name: "safety", time: ms(1001) });
  return log;
}

test("log summary prints kind, metadata, duration, rates, events and loop timing", async () => {
  const file = join(dir, "run.mcap");
  clock = ms(0);
  const log = await writeRun(file, 2);
  clock = ms(2000);
  await log.close();
  const { code, out } = await run(["log", "summary", file]);
  assert.equal(code, 0);
  assert.match(out, /session: deploy, closed cleanly/);
  assert.match(out, /policy\s+furuta\.onnx/);
  assert.match(out, /duration: 2\.000 s/);
  assert.match(out, /\/joint_states\s+sensor_msgs\/msg\/JointState\s+1000\s+500\.0 Hz/);
  assert.match(out, /\/commands\s+std_msgs\/msg\/Float64MultiArray\s+1000\s+500\.0 Hz/);
  assert.match(out, /events \(4: 2 info, 1 error, 1 fatal\):/);
  assert.match(out, /\+1\.000s\s+ERROR\s+loop: deadline missed at cycle 500/);
  assert.match(out, /loop timing \(1000 cycles, target period 2\.000 ms\)/);
  // Cycle 0 has no period; of the other 999, 500 are 2.1 ms and 499 are 1.9 ms.
  assert.match(out, /period\s+p50 2\.100 ms, p99 2\.100 ms, max 2\.100 ms/);
  assert.match(out, /jitter\s+p50 0\.100 ms/);
  assert.match(out, /deadline misses: 3 \(0\.30 %\); causes: scheduling 1, read 2/);
  assert.match(out, /longest without a fresh state: 14\.5/);

  const json = JSON.parse((await run(["log", "summary", file, "--json"])).out);
  assert.equal(json.session, "deploy");
  assert.equal(json.closedCleanly, true);
  assert.equal(json.timing.deadlineMisses, 3);
  assert.deepEqual(json.timing.lateCauses, { scheduling: 1, read: 2 });
  assert.equal(json.timing.cycles, 1000);
  assert.equal(json.channels.find((c: { topic: string }) => c.topic === "/timing").messages, 1000);
  assert.equal(json.events.total, 4);
});

test("many events: counts by level plus the errors; a truncated log says so", async () => {
  const file = join(dir, "many.mcap");
  clock = ms(0);
  const log = await writeRun(file, 50);
  await log.flush();
  // Copy the file as it is now: flushed but never closed, like a crash.
  const cut = join(dir, "cut.mcap");
  writeFileSync(cut, readFileSync(file));
  await log.close();

  const { out } = await run(["log", "summary", file, "--events", "10"]);
  assert.match(out, /events \(52: 50 info, 1 error, 1 fatal\); errors:/);
  assert.doesNotMatch(out, /step 3/);
  assert.match(out, /ERROR\s+loop: deadline missed/);
  assert.match(out, /FATAL\s+safety: torque off/);

  const t = await run(["log", "summary", cut]);
  assert.equal(t.code, 0);
  assert.match(t.out, /TRUNCATED: the file ends without a footer/);
  assert.match(t.out, /\/joint_states\s+sensor_msgs\/msg\/JointState\s+1000/);
});

test("log summary errors: no file, missing file, not an MCAP", async () => {
  assert.equal((await run(["log", "summary"])).code, 2);
  const missing = await run(["log", "summary", join(dir, "nope.mcap")]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope\.mcap: cannot read: ENOENT/);
  const junk = join(dir, "junk.txt");
  writeFileSync(junk, "not an mcap");
  assert.match((await run(["log", "summary", junk])).err, /not an MCAP file/);
});

test("percentiles use nearest rank", () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.deepEqual(percentiles(v), { p50: 50, p99: 99, max: 100 });
  assert.ok(Number.isNaN(percentiles([]).p50));
});
