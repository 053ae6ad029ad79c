/**
 * The calibration and system identification acceptance run, end to end in
 * real time against `s2r emulate` with hidden parameters drawn from the
 * task's ranges (the rig page's +-20 % and its unmodelled effects: friction,
 * dead zone, latency, encoder noise, a non-uniform pendulum, pendulum
 * friction) and hidden encoder zeros:
 *
 * 1. `s2r calibrate` (on each of several emulator seeds; one with `quick`):
 *    the zero errors in counts against the revealed zeros;
 * 2. `s2r sysid record` (20 s; 8 s with `quick`) with the calibration found;
 * 3. `s2r sysid fit` (default budgets; small ones with `quick`): per-parameter
 *    relative errors against the revealed values (relative to the value, or
 *    to the parameter's significance scale near zero, as the fit judges
 *    identifiability), and the held-out error ratio nominal / fitted.
 *
 * The supply voltage and gravity are held nominal in the emulator (a rig's
 * supply is measured, not identified). --reveal is used only to score. The rig file gets the patience of the test
 * suite (100 ms bus timeouts, 1 s Bus Watchdog) so a loaded machine does not
 * end a session; the figures do not depend on it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectPath } from "../common/paths.js";
import { main } from "../launch/cli.js";
import { spawnEmulator, type SpawnedEmulator } from "../robot/emulator/spawn-emulator.js";
import { readCalibration } from "../robot/rigs/calibration.js";
import { readSysidParams } from "../calibration/sysid/params-file.js";
import { furutaSysidRig, SYSID_SYMBOLS } from "../calibration/sysid/rig.js";
import { sameDeadlinesForAll, TIMING_TOLERANT } from "../robot/control/deadline-policy.js";

const round = (x: number, digits = 3) => Number(x.toPrecision(digits));

export async function benchCalibration(o: { quick?: boolean; log?: (line: string) => void } = {}): Promise<Record<string, number>> {
  const log = o.log ?? (() => {});
  const quick = o.quick ?? false;
  const seeds = quick ? [11] : [11, 12, 13];
  const recordSeconds = quick ? 8 : 20;
  const dir = mkdtempSync(join(tmpdir(), "s2r-bench-calibration-"));
  const started = performance.now();
  const io = { out: (t: string) => log(t.trimEnd()), err: (t: string) => log(t.trimEnd()), interactive: false, signal: new AbortController().signal };
  const run = async (argv: string[]) => {
    const code = await main(argv, io);
    if (code !== 0) throw new Error(`s2r ${argv.slice(0, 2).join(" ")} exited with ${code}`);
  };
  const rigFile = join(dir, "furuta.json");
  const raw = JSON.parse(readFileSync(projectPath("robot", "rigs", "furuta.json"), "utf8"));
  raw.bus.timeoutMs = 100;
  raw.bus.retries = 2;
  raw.safety.deadlines = sameDeadlinesForAll(TIMING_TOLERANT);
  raw.safety.watchdogMs = 1000;
  writeFileSync(rigFile, JSON.stringify(raw));
  const known = join(dir, "known.json");
  writeFileSync(known, JSON.stringify({ values: { "actuators.arm.gain": 1, gravity: 9.81 } }));
  const out: Record<string, number> = {};
  let emu: SpawnedEmulator | undefined;
  try {
    // 1. Calibration on each seed; the first seed's emulator stays up for the record.
    let worstArm = 0;
    let worstPendulum = 0;
    let calibrateSeconds = 0;
    let hidden: Record<string, number> = {};
    for (const [i, seed] of seeds.entries()) {
      const e = await spawnEmulator(["furuta", "--link", join(dir, `bus-${seed}`), "--seed", String(seed), "--params", known, "--reveal"]);
      const calibration = join(dir, `calibration-${seed}.json`);
      const t0 = performance.now();
      try {
        await run(["calibrate", rigFile, "--port", e.link, "--out", calibration, "--log", join(dir, `calibrate-${seed}.mcap`)]);
      } catch (err) {
        await e.stop();
        throw err;
      }
      calibrateSeconds += (performance.now() - t0) / 1000;
      const truth = e.ready.zeroCounts as Record<string, number>;
      const c = readCalibration(calibration);
      const armErr = c.joints.arm_joint!.zeroCounts - truth.arm_joint!;
      const pendErr = c.joints.pendulum_joint!.zeroCounts - truth.pendulum_joint!;
      out[`armOffsetErrorCounts_seed${seed}`] = round(armErr);
      out[`pendulumOffsetErrorCounts_seed${seed}`] = round(pendErr);
      worstArm = Math.max(worstArm, Math.abs(armErr));
      worstPendulum = Math.max(worstPendulum, Math.abs(pendErr));
      if (i === 0) {
        emu = e;
        hidden = e.ready.params as Record<string, number>;
      } else await e.stop();
    }
    out.worstArmOffsetErrorCounts = round(worstArm);
    out.worstPendulumOffsetErrorCounts = round(worstPendulum);
    out.calibrateSecondsMean = round(calibrateSeconds / seeds.length);

    // 2. Record on the first seed's emulator with its calibration.
    const excite = join(dir, "excite.mcap");
    const t1 = performance.now();
    await run(["sysid", "record", "--rig", rigFile, "--port", emu!.link, "--calibration", join(dir, `calibration-${seeds[0]}.json`), "--out", excite, "--seconds", String(recordSeconds), "--seed", "1"]);
    out.recordSeconds = round((performance.now() - t1) / 1000);
    await emu!.stop();
    emu = undefined;

    // 3. Fit and score.
    const params = join(dir, "params.json");
    const t2 = performance.now();
    const budget = quick ? ["--hold-out", "0.25", "--cmaes-seconds", "3", "--max-evals", "150", "--lm-iterations", "8"] : [];
    await run(["sysid", "fit", excite, "--rig", rigFile, "--out", params, "--report", dir, ...budget]);
    out.fitSeconds = round((performance.now() - t2) / 1000);
    const p = readSysidParams(params);
    const sysid = furutaSysidRig();
    const truth = sysid.symbolsOf(sysid.tableVector(hidden)) as Record<string, number>;
    const relErr = (s: string, value: number, t: number) => Math.abs(value - t) / Math.max(Math.abs(t), sysid.def(s).significance);
    let worst = 0;
    let identified = 0;
    let within = 0;
    for (const s of SYSID_SYMBOLS) {
      const e = relErr(s, p.values[s]!, truth[s]!);
      out[`relErr_${s}`] = round(e);
      out[`identifiable_${s}`] = p.identifiable[s] ? 1 : 0;
      if (!p.identifiable[s]) continue;
      identified++;
      if (e <= 0.1) within++;
      worst = Math.max(worst, e);
    }
    out.identifiedCount = identified;
    out.identifiedWithin10Percent = within;
    out.worstIdentifiedRelErr = round(worst);
    out.heldOutErrorNominal = round(p.fit.heldOutErrorNominal);
    out.heldOutErrorFitted = round(p.fit.heldOutErrorFitted);
    out.heldOutRatio = round(p.fit.heldOutErrorNominal / p.fit.heldOutErrorFitted);
    out.heldOutSeconds = round(p.fit.heldOutSeconds);
    out.recordDataSeconds = recordSeconds;
    out.emulatorSeeds = seeds.length;
    out.totalSeconds = round((performance.now() - started) / 1000);
    return out;
  } finally {
    await emu?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node bench/calibration.js [--quick]` prints the figures as JSON.
if (import.meta.url === `file://${process.argv[1]}`) {
  benchCalibration({ quick: process.argv.includes("--quick"), log: (l) => console.error(l) }).then((r) => console.log(JSON.stringify(r, null, 2)));
}
