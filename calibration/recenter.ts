import { ConfigError } from "../common/schema.js";

/**
 * Re-centres a task's randomization on identified parameters (s2r sysid fit).
 * Placeholder-free: until the sysid fit lands, a params file is refused with a
 * clear error instead of being ignored.
 */
export function recenterFromParamsFile(taskName: string, _partial: Record<string, unknown>, file: string): Record<string, unknown> {
  throw new ConfigError("", `--params needs the system identification module, which this build does not have yet (task ${taskName})`, file);
}
