/**
 * Where a session's log and report go: logs/<kind>-<rig>-<local time>.mcap
 * in the current folder by default (as s2r deploy does), the HTML report
 * beside the log with the same name.
 */
import { join } from "node:path";

export function defaultSessionLogPath(kind: string, rigName: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return join("logs", `${kind}-${rigName}-${stamp}.mcap`);
}

/** x.mcap -> x.html (any other name gets .html appended). */
export function reportPathOf(logFile: string): string {
  return logFile.endsWith(".mcap") ? `${logFile.slice(0, -5)}.html` : `${logFile}.html`;
}
