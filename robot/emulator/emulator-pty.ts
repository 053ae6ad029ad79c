/**
 * The pseudo-terminal pair of an emulator: socat links the host end at the
 * path the user chose (what `s2r deploy --port` opens) and the device end
 * beside it (`<path>.device`). The device end uses socat's `wait-slave`, so
 * socat exits as soon as the emulator's side closes — including when the
 * emulator is killed outright — and the host's port vanishes as if the
 * adapter had been unplugged, rather than staying open and silent. socat
 * removes both links as it exits, so nothing is left behind even then.
 *
 * (robot/serial/pty-pair.ts makes anonymous pairs for tests; this one needs a
 * chosen path and the die-with-the-emulator behaviour.)
 */

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { SocatMissingError } from "../serial/pty-pair.js";

export interface EmulatorPty {
  /** The path the host opens. */
  readonly hostPath: string;
  /** The emulator opens this; socat starts moving bytes once it is open. */
  readonly devicePath: string;
  readonly pid: number;
  readonly exited: Promise<void>;
  /**
   * Resolves when socat relays bytes: after the device end is opened (socat
   * polls for that). Bytes the host sends before then are lost, so serve
   * only after it.
   */
  readonly relaying: Promise<void>;
  /** Stops socat (both ends and their links vanish); idempotent. */
  close(): Promise<void>;
}

export async function createEmulatorPty(hostPath: string, options: { startTimeoutMs?: number; socat?: string } = {}): Promise<EmulatorPty> {
  const devicePath = `${hostPath}.device`;
  const timeoutMs = options.startTimeoutMs ?? 5000;
  // -t: after one side's EOF, socat lingers this long (default 0.5 s) before exiting; the host should see the port vanish at once.
  const child = spawn(options.socat ?? "socat", ["-d", "-d", "-t", "0.01", `pty,rawer,echo=0,link=${hostPath}`, `pty,rawer,echo=0,wait-slave,link=${devicePath}`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  let markRelaying!: () => void;
  const relaying = new Promise<void>((r) => (markRelaying = r));
  child.stderr!.on("data", (d: Buffer) => {
    if (log.length < 4000) log += d.toString();
    if (log.includes("starting data transfer loop")) markRelaying();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once("error", (e) => (spawnError = e));
  const deadline = performance.now() + timeoutMs;
  try {
    // Both links exist once socat has made the ptys; it waits for the device end to be opened before relaying.
    while (!(existsSync(hostPath) && existsSync(devicePath))) {
      if (spawnError) throw spawnError.code === "ENOENT" ? new SocatMissingError() : spawnError;
      if (exitedEarly) throw new Error(`socat exited before the pty pair was ready: ${log.trim()}`);
      if (performance.now() > deadline) throw new Error(`socat did not set up the pty pair within ${timeoutMs} ms: ${log.trim()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    hostPath,
    devicePath,
    pid: child.pid!,
    exited,
    relaying,
    close() {
      closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
      })();
      return closing;
    },
  };
}
