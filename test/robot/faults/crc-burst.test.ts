import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../launch/cli.js";
import { projectPath } from "../../../common/paths.js";
import { writeRandomPolicy } from "../../../robot/control/random-policy.js";
import type { SpawnedEmulator } from "../../../robot/emulator/spawn-emulator.js";
import { faultEmulator, readBack } from "./fault-rig.js";
import { parseReplyCorruption, ReplyCorruption } from "../../../robot/emulator/reply-faults.js";

// Fault matrix row "a burst of CRC errors": `s2r deploy` (in this process)
// against `s2r emulate --corrupt-replies` over a real pseudo-terminal. The
// emulator prints when its first corrupt answer left and when the motor's
// torque went off (wall clock), so the time to torque off is measured where
// the motor is, not where the host believes it wrote.

const dir = mkdtempSync(join(tmpdir(), "s2r-fault-crc-"));
let emu: SpawnedEmulator | undefined;
test.after(async () => {
  await emu?.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

test("--corrupt-replies parses as data and corrupts exactly the burst, seeded", () => {
  assert.deepEqual(parseReplyCorruption("after=2s,count=3"), { afterMs: 2000, count: 3, rate: 1, enable: 1 });
  assert.deepEqual(parseReplyCorruption("after=150,count=5,rate=0.5,enable=2"), { afterMs: 150, count: 5, rate: 0.5, enable: 2 });
  assert.throws(() => parseReplyCorruption("count=3"), /corrupt-replies\.after/);
  assert.throws(() => parseReplyCorruption("after=1s,count=0"), /corrupt-replies\.count/);
  assert.throws(() => parseReplyCorruption("after=1s,count=2,rate=2"), /corrupt-replies\.rate/);
  const starts: number[] = [];
  const c = new ReplyCorruption(parseReplyCorruption("after=10,count=2,enable=2"), 1, (t) => starts.push(t));
  const answer = () => Uint8Array.of(0xff, 0xff, 0xfd, 0, 1, 4, 0, 0x55, 0, 0x12, 0x34);
  c.torqueEnabled(0);
  assert.equal(c.apply(answer(), 50).at(-1), 0x34, "not armed before the second enable");
  c.torqueEnabled(100);
  assert.equal(c.apply(answer(), 105).at(-1), 0x34, "armed, not yet started");
  assert.equal(c.apply(answer(), 111).at(-1), 0x34 ^ 0xff);
  assert.equal(c.apply(answer(), 112).at(-1), 0x34 ^ 0xff);
  assert.equal(c.apply(answer(), 113).at(-1), 0x34, "the burst is over after count answers");
  assert.deepEqual(starts, [111]);
});

test("a burst of CRC errors mid-episode: torque off, the error names the CRC, the log readable", async () => {
  const policy = writeRandomPolicy(dir, { task: "furuta", seed: 5 });
  // The rig's own bus timing (10 ms timeout, its retries) and deploy deadlines: the fault path as shipped.
  const rig = JSON.parse(readFileSync(projectPath("robot", "rigs", "furuta.json"), "utf8"));
  const rigFile = join(dir, "furuta.json");
  writeFileSync(rigFile, JSON.stringify(rig));
  // Torque enable 2 is the episode's (1 homes the arm); 1 s into it, every answer corrupt for far longer than any retry budget.
  const f = await faultEmulator(dir, "crc", ["--corrupt-replies", "after=1s,count=100000,enable=2"]);
  emu = f.emu;
  const calibration = f.calibration;
  const log = join(dir, "crc.mcap");
  let out = "";
  let err = "";
  const code = await main(["deploy", "--policy", policy.onnxPath, "--rig", rigFile, "--port", emu.link, "--calibration", calibration, "--duration", "20", "--log", log, "--json"], {
    out: (t) => (out += t),
    err: (t) => (err += t),
    interactive: false,
    signal: new AbortController().signal,
  });
  assert.equal(code, 1, `deploy must stop on the burst: ${out}${err}`);
  assert.match(err, /CRC/i, `the error names the CRC: ${err}`);

  const events = emu.events();
  const burst = events.find((e) => e.event === "corrupt_replies_started");
  assert.ok(burst, `the burst began: ${JSON.stringify(events)}`);
  const enables = events.filter((e) => e.event === "torque" && e.on === true);
  assert.ok(enables.length >= 2, "the episode enabled torque");
  const off = events.find((e) => e.event === "torque" && e.on === false && (e.atMs as number) > (burst.atMs as number));
  assert.ok(off, `the motor's torque went off after the burst began: ${JSON.stringify(events)}`);
  const toTorqueOffMs = (off.atMs as number) - (burst.atMs as number);
  const periodMs = 1000 * policy.manifest.controlPeriodSec;
  // The figure the README's fault matrix quotes (the deploy deadlines decide it: staleStateSec of bus silence).
  console.log(`crc burst: torque off ${toTorqueOffMs.toFixed(1)} ms after the first corrupt answer (control period ${periodMs} ms, rig stale-state limit ${1000 * rig.safety.deadlines.deploy.staleStateSec} ms)`);
  assert.ok(toTorqueOffMs <= 1000 * rig.safety.deadlines.deploy.staleStateSec + 2 * periodMs + 50, `torque off ${toTorqueOffMs.toFixed(1)} ms after the burst began`);

  const { contents: c, events: logged, jointStates } = await readBack(log);
  assert.ok(c.closedCleanly, "the log was closed");
  assert.ok(jointStates > 50, `the episode ran before the burst (${jointStates} cycles logged)`);
  assert.ok(logged.some((e) => /CRC/i.test(e)), `the log names the CRC: ${logged.join("\n")}`);
  assert.ok(logged.some((e) => /torque off/.test(e)), logged.join("\n"));
});
