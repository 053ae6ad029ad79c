/**
 * Checks made before a session moves anything: no device reports a hardware
 * error (a tripped overload keeps the motor's torque off until a reboot, so
 * the session could not move it anyway, and the cause must be found first),
 * and, for a calibrated rig, no guarded joint reads beyond its stops.
 */
import { implausiblePositions } from "../../robot/control/rig-safety.js";
import { HardwareError, type HardwareInterface } from "../../robot/hardware/interface.js";
import type { DynamixelRig } from "../../robot/rigs/dynamixel-rig.js";
import type { RigConfig } from "../../robot/rigs/rig-config.js";
import { SessionRefusedError } from "./session-guard.js";

/**
 * Reads every device's Hardware Error Status (decoded by name); refuses the
 * session naming each device and error. A device that does not answer is a
 * HardwareError saying which.
 */
export async function refuseOnHardwareError(hw: DynamixelRig): Promise<void> {
  const rig = hw.rig;
  const patient = { timeoutMs: Math.max(50, 5 * rig.bus.timeoutMs), retries: 2 };
  const problems: string[] = [];
  for (const d of rig.devices) {
    let report;
    try {
      report = await hw.bus.readHardwareError(d.id, patient);
    } catch (e) {
      throw new HardwareError(`cannot read Hardware Error Status of ID ${d.id} (${d.joint}): ${(e as Error).message}`, e);
    }
    if (report.raw !== 0) problems.push(`ID ${d.id} (${d.joint}) reports Hardware Error Status ${report.names.join(", ")} (${report.raw})`);
  }
  if (problems.length) {
    throw new SessionRefusedError(
      `refusing to start: ${problems.join("; ")}. The device keeps its torque off until it is rebooted (Reboot instruction, or a power cycle); find the cause first (overload: let the motor cool and check nothing blocks the arm)`,
    );
  }
}

/** Refuses a calibrated session whose guarded joints read beyond their stops (a wrong or stale calibration). */
export async function refuseOnImplausiblePositions(hw: HardwareInterface, rig: RigConfig): Promise<void> {
  const frame = await hw.read();
  const bad = implausiblePositions(rig, hw.jointNames, frame.position);
  if (bad) throw new SessionRefusedError(`refusing to start: ${bad}`);
}

/**
 * What a Dynamixel rig's motors say after a failed session: a Bus Watchdog
 * that stopped the motor (bus silent longer than its period: the host, or
 * the machine, stalled; the motor then ignores goal writes without a word)
 * or a hardware error. Empty when neither.
 */
export async function diagnoseDynamixel(hw: DynamixelRig): Promise<string[]> {
  const found: string[] = [];
  const patient = { timeoutMs: Math.max(50, 5 * hw.rig.bus.timeoutMs), retries: 1 };
  for (const d of hw.rig.devices) {
    if (d.role === "motor") {
      const wd = await hw.bus.readRegister(d.id, "Bus Watchdog", patient);
      if (wd.raw === 255) found.push(`ID ${d.id} (${d.joint}): the Bus Watchdog stopped the motor (the bus was silent longer than ${hw.rig.safety.watchdogMs} ms), so later commands were ignored`);
    }
    const report = await hw.bus.readHardwareError(d.id, patient);
    if (report.raw !== 0) found.push(`ID ${d.id} (${d.joint}): Hardware Error Status ${report.names.join(", ")}`);
  }
  return found;
}
