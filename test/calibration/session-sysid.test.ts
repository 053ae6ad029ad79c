/**
 * The system identification sessions without the real-time emulator:
 * `sysid record` on the simulator in lockstep (SimHardware) to an MCAP log,
 * that log read back into the sysid core's dataset, an interrupted record,
 * and `s2r train --params` re-centring the randomization. The emulator runs
 * are in acceptance-emulator.test.ts.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setupTask } from "../../sim/env/sim-env.js";
import { getTask } from "../../sim/tasks/registry.js";
import { LockstepTicker } from "../../robot/control/control-loop.js";
import { SimHardware } from "../../robot/hardware/sim-hardware.js";
import { SessionLog } from "../../robot/log/session-log.js";
import { readSessionLog } from "../../robot/log/read-session-log.js";
import { loadRigConfig, type RigConfig } from "../../robot/rigs/rig-config.js";
import { silentAt } from "../robot/silent-bus.js";
import { runSysidRecord } from "../../calibration/session/sysid-record-session.js";
import { readSysidLog } from "../../calibration/session/log-dataset.js";
import { sysidChannels } from "../../calibration/session/sysid-channels.js";
import { furutaSysidRig } from "../../calibration/sysid/rig.js";
import { SYSID_PARAMS_SCHEMA_VERSION, writeSysidParams, type SysidParams } from "../../calibration/sysid/params-file.js";
import { recenterFromParamsFile } from "../../calibration/recenter.js";
import { resolveTrainConfig } from "../../policies/runner.js";
import { main } from "../../launch/cli.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-session-sysid-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const rig = loadRigConfig("furuta");
const task = getTask("furuta");
const setup = setupTask(task, task.configSchema.parse({}, "task"));
const sysid = furutaSysidRig();
const ch = sysidChannels(sysid);

async function record(name: string, seconds: number, signal?: AbortSignal, ticker?: (p: number) => { lockstep: true; waitNext(): Promise<any> }, o: { silent?: number[]; rig?: RigConfig } = {}) {
  const hw = await SimHardware.create({ setup, params: { "actuators.arm.latency": 0.004, "joints.arm_joint.friction": 0.002 }, initial: { arm_joint: 0.3 }, seed: 2 });
  const bus = silentAt(hw, o.silent ?? []);
  const log = SessionLog.create(join(dir, `${name}.mcap`), { session: "sysid", metadata: { rig: rig.name, control_dt: String(ch.controlDt) } });
  const result = await runSysidRecord({ hardware: bus, rig: o.rig ?? rig, sysid, log, seconds, seed: 5, signal, ticker: ticker ?? ((p) => new LockstepTicker(p)) });
  return { hw, bus, log, result };
}

test("a recorded excitation reads back as the dataset the fit needs: volts as written, calibrated angles, current", async () => {
  const { hw, log, result } = await record("ok", 4);
  try {
    assert.equal(result.end.outcome, "completed", result.end.message);
    assert.equal(result.stats.samples, 400);
    assert.ok(result.stats.homed, "the arm was homed to its centre first");
    assert.ok(result.stats.peakTheta < 1.5, `the arm stays within the travel keeper's 1.5 rad: ${result.stats.peakTheta}`);
    assert.ok(result.stats.peakVolts > 2 && result.stats.peakVolts <= 6);
    assert.ok(result.stats.peakAlpha > 0.05, `the pendulum swings: ${result.stats.peakAlpha} rad`);
    assert.equal(hw.torqueEnabled, false);

    const rec = await readSysidLog(log.file, ch);
    const ds = rec.dataset;
    assert.ok(rec.complete);
    assert.equal(rec.droppedSamples, 0);
    assert.equal(ds.t.length, 400);
    assert.equal(ds.controlDt, 0.01);
    assert.ok(ds.current, "the motor current is in the dataset");
    // The dataset is exactly the excitation phase of the session: same volts, same angles.
    const phaseStart = result.loop.recorder.length - 400;
    const volts = result.loop.recorder.command("arm");
    const theta = result.loop.recorder.position("arm_joint");
    for (let k = 0; k < 400; k++) {
      assert.equal(ds.volts[k], volts[phaseStart + k]);
      assert.equal(ds.theta[k], theta[phaseStart + k]);
    }
    for (let k = 1; k < ds.t.length; k++) assert.ok(ds.t[k]! > ds.t[k - 1]!);
    // The excitation is the chirp then the PRBS: both halves drive the arm.
    assert.ok(Math.max(...ds.volts.slice(0, 200).map(Math.abs)) > 2 && Math.max(...ds.volts.slice(200).map(Math.abs)) > 2);
    const meta = await readSessionLog(log.file);
    assert.equal(meta.session, "sysid");
    assert.ok(meta.closedCleanly);
  } finally {
    await hw.close();
  }
});

test("a bus silence during the excitation costs a recovery and the excitation plays again from its start: the log's last run is the contiguous dataset", async () => {
  const clean = await record("silence-ref", 2);
  await clean.hw.close();
  assert.equal(clean.result.end.outcome, "completed", clean.result.end.message);
  // Halfway through the excitation (the same lockstep run, read for read).
  const at = clean.bus.reads - 100;
  const { hw, bus, log, result } = await record("silence", 2, undefined, undefined, { silent: [at] });
  try {
    assert.equal(result.end.outcome, "completed", result.end.message);
    assert.equal(result.stats.restarts, 1);
    assert.equal(result.stats.samples, 200);
    assert.equal(result.loop.deadlineStats.recoveries, 1);
    assert.equal(bus.activations, 2, "re-activated after the silence");
    assert.equal(hw.torqueEnabled, false);
    const rec = await readSysidLog(log.file, ch);
    assert.ok(rec.complete);
    assert.equal(rec.dataset.t.length, 200, "only the run that completed");
    // Exactly the last 200 cycles of the session: the restarted run, with nothing of the interrupted one.
    const volts = result.loop.recorder.command("arm");
    const n = result.loop.recorder.length;
    for (let k = 0; k < 200; k++) assert.equal(rec.dataset.volts[k], volts[n - 200 + k]);
  } finally {
    await hw.close();
  }
  // A rig that allows no recovery ends the record at the silence, torque off.
  const strict = loadRigConfig("furuta");
  strict.safety.deadlines.sysid.recoveries = 0;
  const failed = await record("silence-strict", 2, undefined, undefined, { silent: [at], rig: strict });
  await failed.hw.close();
  assert.equal(failed.result.end.outcome, "hardware_error", failed.result.end.message);
  assert.equal(failed.hw.torqueEnabled, false);
});

test("an interrupted record leaves torque off, a complete log, and the samples up to the interruption", async () => {
  const controller = new AbortController();
  let n = 0;
  const ticker = (p: number) => {
    const inner = new LockstepTicker(p);
    return {
      lockstep: true as const,
      async waitNext() {
        if (++n === 150) controller.abort(new Error("SIGTERM"));
        return inner.waitNext();
      },
    };
  };
  const { hw, log, result } = await record("interrupted", 4, controller.signal, ticker);
  try {
    assert.equal(result.end.outcome, "interrupted");
    assert.match(result.end.message, /interrupted during sysid excitation \(SIGTERM\)/);
    assert.equal(hw.torqueEnabled, false);
    const rec = await readSysidLog(log.file, ch);
    assert.equal(rec.complete, false);
    assert.ok(rec.dataset.t.length > 50 && rec.dataset.t.length < 150, `${rec.dataset.t.length} samples`);
    assert.equal((await readSessionLog(log.file)).closedCleanly, true);
  } finally {
    await hw.close();
  }
});

test("a log that is not a sysid record is refused by name", async () => {
  const other = SessionLog.create(join(dir, "deploy.mcap"), { session: "deploy" });
  other.event("info", "nothing here");
  await other.close();
  await assert.rejects(readSysidLog(other.file, ch), /deploy\.mcap: \(root\): this is a deploy session log, not a s2r sysid record log/);
  const empty = SessionLog.create(join(dir, "empty.mcap"), { session: "sysid" });
  await empty.close();
  await assert.rejects(readSysidLog(empty.file, ch), /no "sysid excitation" phase in this log/);
});

function fakeParams(): SysidParams {
  // As s2r sysid fit writes them: Rm and mp identified, Dp not.
  return {
    schema: SYSID_PARAMS_SCHEMA_VERSION,
    rig: "furuta",
    values: { Rm: 9.3, mp: 0.026, Dp: 2e-5 },
    stddev: { Rm: 0.01, mp: 0.002, Dp: null },
    identifiable: { Rm: true, mp: true, Dp: false },
    targets: { "actuators.arm.Rm": 9.3, "links.pendulum.mass": 0.026, "joints.pendulum_joint.damping": 2e-5 },
    targetStddev: { "actuators.arm.Rm": 0.01, "links.pendulum.mass": 0.002, "joints.pendulum_joint.damping": null },
    symbols: { Rm: "actuators.arm.Rm", mp: "links.pendulum.mass", Dp: "joints.pendulum_joint.damping" },
    fixed: {},
    pinned: {},
    fit: { costNominal: 10, costFitted: 1, heldOutErrorNominal: 0.1, heldOutErrorFitted: 0.01, heldOutSeconds: 4, fitSeconds: 16, segmentSeconds: 0.5, withCurrent: true, fitWallSeconds: 60, nullDirections: [] },
  };
}

test("s2r train --params re-centres the resolved training config's randomization on the identified values", () => {
  const file = join(dir, "params.json");
  writeSysidParams(file, fakeParams());
  const partial = recenterFromParamsFile("furuta", { run: { seed: 3 } }, file);
  const config = resolveTrainConfig("furuta", partial);
  const entry = (target: string) => config.task.randomization.find((e) => e.target === target)!;
  // Rm: identified at 9.3 with sd 0.01: the 3 % floor wins over 2 sd.
  const rm = entry("actuators.arm.Rm");
  assert.equal(rm.mode, "absolute");
  assert.ok(Math.abs((rm.low as number) - 9.3 * 0.97) < 1e-9 && Math.abs((rm.high as number) - 9.3 * 1.03) < 1e-9, JSON.stringify(rm));
  // mp: 2 sd (0.004) is wider than 3 % (0.00078).
  const mp = entry("links.pendulum.mass");
  assert.ok(Math.abs((mp.low as number) - 0.022) < 1e-9 && Math.abs((mp.high as number) - 0.03) < 1e-9, JSON.stringify(mp));
  // Dp was not identified: the task's own +-20 % scale stays.
  const dp = entry("joints.pendulum_joint.damping");
  assert.equal(dp.mode, "scale");
  assert.equal(dp.low, 0.8);
  assert.equal(config.run.seed, 3);
  // A config's own randomization is the one re-centred.
  const own = recenterFromParamsFile("furuta", { task: { randomization: [{ target: "actuators.arm.Rm", distribution: "uniform", mode: "scale", low: 0.5, high: 1.5 }] } }, file);
  const ownSpec = resolveTrainConfig("furuta", own).task.randomization;
  assert.deepEqual(
    ownSpec.map((e) => e.target),
    ["actuators.arm.Rm", "links.pendulum.mass"],
  );
});

test("--params for another task, or a broken params file, is a clear error naming the file and field", () => {
  const file = join(dir, "params-other.json");
  writeSysidParams(file, fakeParams());
  assert.throws(() => recenterFromParamsFile("pendulum", {}, file), /params-other\.json: rig: the parameters were identified for "furuta", not for task "pendulum"/);
  const broken = join(dir, "broken.json");
  const p = fakeParams() as unknown as Record<string, any>;
  delete p.targets["links.pendulum.mass"];
  writeFileSync(broken, JSON.stringify(p));
  assert.throws(() => recenterFromParamsFile("furuta", {}, broken), /broken\.json: targets\.links\.pendulum\.mass: missing \(symbols\.mp names it\)/);
});

test("s2r sysid record / fit: missing or bad arguments are usage errors naming the option or file", async () => {
  const run = async (argv: string[]) => {
    let err = "";
    const code = await main(argv, { out: () => {}, err: (t) => (err += t), interactive: false, signal: new AbortController().signal });
    return { code, err };
  };
  const noPort = await run(["sysid", "record", "--calibration", "c.json", "--out", join(dir, "x.mcap")]);
  assert.equal(noPort.code, 2);
  assert.match(noPort.err, /--port is required/);
  const badSeconds = await run(["sysid", "record", "--port", "/dev/null", "--calibration", "c.json", "--out", join(dir, "x.mcap"), "--seconds", "0"]);
  assert.match(badSeconds.err, /--seconds must be > 0/);
  const noCalibration = await run(["sysid", "record", "--port", "/dev/null", "--calibration", join(dir, "none.json"), "--out", join(dir, "x.mcap")]);
  assert.equal(noCalibration.code, 2);
  assert.match(noCalibration.err, /none\.json: \(root\): cannot read file/);
  const noOut = await run(["sysid", "fit", join(dir, "deploy.mcap")]);
  assert.match(noOut.err, /--out is required/);
  const missing = await run(["sysid", "fit", join(dir, "missing.mcap"), "--out", join(dir, "p.json")]);
  assert.match(missing.err, /missing\.mcap does not exist/);
  const wrongKind = await run(["sysid", "fit", join(dir, "deploy.mcap"), "--rig", "furuta", "--out", join(dir, "p.json")]);
  assert.equal(wrongKind.code, 2);
  assert.match(wrongKind.err, /deploy\.mcap: \(root\): this is a deploy session log, not a s2r sysid record log/);
  const holdOut = await run(["sysid", "fit", join(dir, "deploy.mcap"), "--out", join(dir, "p.json"), "--hold-out", "0"]);
  assert.match(holdOut.err, /--hold-out must be a fraction in \(0, 0\.9\)/);
});
