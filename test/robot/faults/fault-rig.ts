/**
 * Shared by the fault-matrix tests: an `s2r emulate` child with revealed
 * encoder zeros (so the calibration is exact and the faults, not the
 * calibration, decide what happens) and quick settling, and a session log
 * read back into what the rows check.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readSessionLog, type SessionLogContents } from "../../../robot/log/read-session-log.js";
import { spawnEmulator, type SpawnedEmulator } from "../../../robot/emulator/spawn-emulator.js";
import { writeCalibration } from "../../../robot/rigs/calibration.js";
import { projectPath } from "../../../common/paths.js";
import { sameDeadlinesForAll, TIMING_TOLERANT } from "../../../robot/control/deadline-policy.js";

/** Wall-clock ms with sub-ms resolution: comparable with `s2r emulate --json` event times. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/** The Furuta emulator (seed 7, much more pendulum damping: ~1 s settle waits) and its exact calibration file. */
export async function faultEmulator(dir: string, name: string, extra: string[] = []): Promise<{ emu: SpawnedEmulator; calibration: string }> {
  const quickSettle = join(dir, `${name}-quick-settle.json`);
  writeFileSync(quickSettle, JSON.stringify({ values: { "joints.pendulum_joint.damping": 2e-3, "joints.pendulum_joint.friction": 2e-4 } }));
  const emu = await spawnEmulator(["furuta", "--link", join(dir, `${name}.tty`), "--params", quickSettle, "--reveal", "--seed", "7", ...extra]);
  const zero = emu.ready.zeroCounts as Record<string, number>;
  const calibration = join(dir, `${name}-calibration.json`);
  writeCalibration(calibration, { schema: 1, rig: "furuta", method: "revealed by s2r emulate", joints: Object.fromEntries(Object.entries(zero).map(([j, z]) => [j, { zeroCounts: z, direction: 1 as const }])) });
  return { emu, calibration };
}

/**
 * The Furuta rig file with more patience for answers (as test/robot/deploy.test.ts):
 * on the loaded 2-core test machine a pty round trip now and then takes longer than
 * the real bus's 10 ms timeout, and a row about signals or the disk must not end in
 * a timing recovery first. Same code paths.
 */
export function tolerantRigFile(dir: string): string {
  const rig = JSON.parse(readFileSync(projectPath("robot", "rigs", "furuta.json"), "utf8"));
  rig.bus.timeoutMs = 100;
  rig.bus.retries = 2;
  rig.safety.deadlines = sameDeadlinesForAll(TIMING_TOLERANT);
  const file = join(dir, "furuta-tolerant.json");
  writeFileSync(file, JSON.stringify(rig));
  return file;
}

export interface LogReadBack {
  contents: SessionLogContents;
  events: string[];
  jointStates: number;
  /** Log time of the last message that reached the file, ns since the epoch. */
  lastLogTime: bigint;
}

export async function readBack(file: string): Promise<LogReadBack> {
  const events: string[] = [];
  let jointStates = 0;
  let lastLogTime = 0n;
  const contents = await readSessionLog(file, {
    onMessage: (m) => {
      if (m.topic === "/events") events.push(String(m.decode().msg));
      if (m.topic === "/joint_states") jointStates++;
      if (m.logTime > lastLogTime) lastLogTime = m.logTime;
    },
  });
  return { contents, events, jointStates, lastLogTime };
}
