import test from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readSessionLog } from "../../robot/log/read-session-log.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-log-crash-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const sessionLogModule = fileURLToPath(new URL("../../robot/log/session-log.js", import.meta.url));

/**
 * A child that logs a 500 Hz loop (yielding between cycles like a real control
 * loop) and reports each cycle it finished on stdout. `end` is what it does
 * after `seconds`: keep going (to be killed), process.exit without close(), or
 * process.exit right after starting close().
 */
const CHILD = `
const [file, end, seconds] = process.argv.slice(1);
const { SessionLog } = await import(${JSON.stringify(sessionLogModule)});
const log = SessionLog.create(file, { session: "deploy", metadata: { test: "crash" } });
log.event("info", "start");
let i = 0;
const t0 = Date.now();
function cycle() {
  log.jointState({ name: ["arm_joint", "pendulum_joint"], position: [i, 0], velocity: [0, 0], effort: [] });
  log.timing({ cycle: i, periodMs: 2, targetPeriodMs: 2, readMs: 0.3, inferMs: 0.2, writeMs: 0.1, deadlineMissed: false });
  i++;
  if (i % 25 === 0) process.stdout.write(i + "\\n");
  if (end !== "kill" && Date.now() - t0 > Number(seconds) * 1000) {
    // "close-then-exit": close() is started but the process exits before it can finish.
    if (end === "close-then-exit") void log.close();
    process.exit(0);
  }
  setTimeout(cycle, 2);
}
cycle();
`;

function startChild(file: string, end: "kill" | "exit" | "close-then-exit", seconds: number) {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD, file, end, String(seconds)], { stdio: ["ignore", "pipe", "inherit"] });
  let reported = 0;
  let firstReportAt = 0;
  child.stdout.setEncoding("utf8");
  let buf = "";
  const listeners: Array<() => void> = [];
  child.stdout.on("data", (d: string) => {
    buf += d;
    const lines = buf.split("\n");
    buf = lines.pop()!;
    for (const l of lines) reported = Number(l);
    if (!firstReportAt && reported) firstReportAt = Date.now();
    for (const f of listeners) f();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, exited, reported: () => reported, firstReportAt: () => firstReportAt, onReport: (f: () => void) => listeners.push(f) };
}

test("a writer killed with SIGKILL leaves a readable file missing at most the last second", async () => {
  const file = join(dir, "killed.mcap");
  const c = startChild(file, "kill", 0);
  // Let it log for ~1.5 s after its loop is running, then kill it without warning.
  const killedAt = await new Promise<number>((resolve) =>
    c.onReport(() => {
      if (c.firstReportAt() && Date.now() - c.firstReportAt() >= 1500) {
        const t = Date.now();
        c.child.kill("SIGKILL");
        resolve(t);
      }
    }),
  );
  const reportedBeforeKill = c.reported();
  const { signal } = await c.exited;
  assert.equal(signal, "SIGKILL");

  const positions: number[] = [];
  let lastLogTime = 0n;
  const r = await readSessionLog(file, {
    topics: ["/joint_states"],
    onMessage: (m) => {
      positions.push((m.decode().position as number[])[0]!);
      lastLogTime = m.logTime;
    },
  });
  assert.equal(r.truncated, true);
  assert.equal(r.closedCleanly, false);
  assert.equal(r.session, "deploy");
  assert.deepEqual(r.metadata, { test: "crash" });
  // Everything up to the last flush is there, in order, with no holes.
  assert.deepEqual(positions, Array.from({ length: positions.length }, (_, k) => k));
  assert.ok(positions.length > 0 && positions.length <= reportedBeforeKill + 25);
  const lostMs = killedAt - Number(lastLogTime / 1_000_000n);
  if (process.env.S2R_TEST_VERBOSE) console.log(`lost ${lostMs} ms, recovered ${positions.length} of ${reportedBeforeKill}+ cycles`);
  assert.ok(lostMs <= 1000, `the last recovered message is ${lostMs} ms older than the kill`);
});

test("a process that exits without close() still gets a complete file (exit handler)", async () => {
  const file = join(dir, "exited.mcap");
  const c = startChild(file, "exit", 0.3);
  const { code } = await c.exited;
  assert.equal(code, 0);
  const r = await readSessionLog(file);
  assert.equal(r.closedCleanly, true, r.truncation);
  assert.ok(r.endedAt !== undefined, "the end-of-session record was written");
  const js = r.channels.find((ch) => ch.topic === "/joint_states")!;
  assert.ok(js.messageCount >= c.reported());
});

test("exiting while an unawaited close() is still writing also leaves a complete file", async () => {
  const file = join(dir, "close-then-exit.mcap");
  const c = startChild(file, "close-then-exit", 0.3);
  assert.equal((await c.exited).code, 0);
  const r = await readSessionLog(file);
  assert.equal(r.closedCleanly, true, r.truncation);
  assert.ok(r.channels.find((ch) => ch.topic === "/joint_states")!.messageCount >= c.reported());
});

test("a file that cannot grow: clear errors naming the file and the bytes lost, and what was written stays readable", async () => {
  const file = join(dir, "full.mcap");
  // RLIMIT_FSIZE of 64 KiB stands in for a full disk (Node ignores SIGXFSZ, so writes fail with EFBIG).
  const script = `
const { SessionLog } = await import(${JSON.stringify(sessionLogModule)});
const errors = [];
const log = SessionLog.create(process.argv[1], { session: "deploy", onError: (e) => errors.push(e.message) });
const js = (i) => log.jointState({ name: ["arm_joint", "pendulum_joint"], position: [i, 0], velocity: [0, 0], effort: [] });
for (let i = 0; i < 100; i++) js(i);
await log.flush();
for (let i = 100; i < 3000; i++) js(i);
let closeError = "";
try { await log.close(); } catch (e) { closeError = e.message; }
process.stdout.write(JSON.stringify({ errors, closeError, getter: log.error?.message ?? "" }));
`;
  const child = spawn("bash", ["-c", 'ulimit -f 64 && exec "$0" --input-type=module -e "$1" "$2"', process.execPath, script, file], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  assert.equal(code, 0);
  const res = JSON.parse(out) as { errors: string[]; closeError: string; getter: string };
  assert.ok(res.errors.length >= 1);
  assert.match(res.errors[0]!, /full\.mcap: background write failed \(EFBIG\); \d+ bytes are kept in memory and retried/);
  assert.match(res.closeError, /full\.mcap: could not write the last \d+ bytes \(EFBIG\)/);
  assert.equal(res.getter, res.errors[0]);
  const r = await readSessionLog(file);
  assert.equal(r.truncated, true);
  assert.equal(r.channels.find((c) => c.topic === "/joint_states")!.messageCount, 100, "the flushed part survives");
});
