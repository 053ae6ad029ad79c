/**
 * `s2r calibrate --ros2` against `s2r emulate --ros2` (a child process): the
 * robot publishes calibrated positions with a residual zero offset of its
 * own (set here through --params); the check finds it, passes within the
 * tolerance and fails beyond it, naming the joint, without driving anything.
 * Cyclone DDS on loopback, on a random domain; skipped where Cyclone is not
 * installed (a failure in CI), as the other ROS 2 tests.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../launch/cli.js";
import { readSessionLog } from "../../robot/log/read-session-log.js";
import { randomLoopbackDomainId, useLoopbackCyclone } from "../../robot/ros2/cyclone/loopback.js";
import { cycloneAvailable } from "../robot/cyclone-available.js";

const COUNT = (2 * Math.PI) / 4096;
const CLI = fileURLToPath(new URL("../../launch/cli.js", import.meta.url));
const RUNNER = `const { main } = await import(${JSON.stringify(CLI)}); process.exitCode = await main(process.argv.slice(1));`;
const dir = mkdtempSync(join(tmpdir(), "s2r-calibrate-ros2-"));
const children: ChildProcess[] = [];
test.after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

async function emulator(domainId: number, pendulumOffsetCounts: number): Promise<ChildProcess> {
  const params = join(dir, `offset-${pendulumOffsetCounts}.json`);
  // A still pendulum (no encoder noise) with a known residual offset; quick to settle.
  writeFileSync(params, JSON.stringify({ values: { "sensors.pendulum.offset": pendulumOffsetCounts * COUNT, "joints.pendulum_joint.damping": 2e-3 } }));
  const child = spawn(process.execPath, ["--input-type=module", "-e", RUNNER, "emulate", "furuta", "--ros2", "--domain", String(domainId), "--params", params, "--json"], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  children.push(child);
  let out = "";
  let err = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s2r emulate --ros2 not ready within 20 s: ${err}`)), 20000);
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", () => reject(new Error(`s2r emulate --ros2 exited: ${err}`)));
  });
  return child;
}

async function check(domainId: number, log: string) {
  let out = "";
  let err = "";
  const code = await main(["calibrate", "furuta", "--ros2", "--domain", String(domainId), "--stale-ms", "200", "--log", log, "--json"], { out: (t) => (out += t), err: (t) => (err += t), interactive: false, signal: new AbortController().signal });
  return { code, result: out ? JSON.parse(out) : undefined, err };
}

test("s2r calibrate --ros2 checks the pendulum's zero: within tolerance passes, beyond fails naming the joint; nothing is driven", async (t) => {
  if (!cycloneAvailable(t)) return;
  useLoopbackCyclone();
  const domainId = randomLoopbackDomainId();

  const good = await emulator(domainId, 3);
  const ok = await check(domainId, join(dir, "ok.mcap"));
  good.kill("SIGTERM");
  assert.equal(ok.code, 0, ok.err);
  const pend = ok.result.checks.find((c: { joint: string }) => c.joint === "pendulum_joint");
  assert.ok(Math.abs(pend.offsetCounts - 3) < 1, `found ${pend.offsetCounts} counts, set 3`);
  assert.equal(pend.pass, true);
  let commands = 0;
  await readSessionLog(join(dir, "ok.mcap"), { onMessage: (m) => void (m.topic === "/commands" && commands++) });
  assert.equal(commands, 0, "nothing was driven");

  await new Promise((r) => good.once("exit", r));
  const bad = await emulator(domainId, 9);
  const off = await check(domainId, join(dir, "bad.mcap"));
  bad.kill("SIGTERM");
  assert.equal(off.code, 1);
  assert.match(off.result.message, /pendulum_joint reads 0\.01\d+ rad \([89]\.\d counts\) hanging still, beyond the 5-count tolerance/);
});
