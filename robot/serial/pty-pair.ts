/**
 * A connected pair of pseudo-terminals made by `socat`, standing in for a USB
 * serial adapter and the bus behind it: a program opens `hostPath` as if it
 * were /dev/ttyUSB0 and a virtual device serves `devicePath`. Killing socat
 * (close()) makes both ends vanish, like unplugging the adapter.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class SocatMissingError extends Error {
  constructor() {
    super("socat is not installed; it creates the pseudo-terminal pair (Debian/Ubuntu: apt-get install socat)");
    this.name = "SocatMissingError";
  }
}

export interface PtyPair {
  /** Open this one as the host's serial port. */
  readonly hostPath: string;
  /** Serve the virtual bus on this one. */
  readonly devicePath: string;
  /** socat's process ID. */
  readonly pid: number;
  /** Resolves when socat exits (on close() or on its own). */
  readonly exited: Promise<void>;
  /** Stops socat (both ptys disappear) and removes the links; idempotent. */
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** Give up if socat has not set up the ptys within this time. Default 5000 ms. */
  startTimeoutMs?: number;
  /** The socat executable. Default "socat" from PATH. */
  socat?: string;
}

export async function createPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const dir = await mkdtemp(join(tmpdir(), "s2r-pty-"));
  const hostPath = join(dir, "host");
  const devicePath = join(dir, "device");
  const end = (link: string) => `pty,rawer,echo=0,link=${link}`;
  let child: ChildProcess;
  try {
    child = spawn(options.socat ?? "socat", ["-d", "-d", end(hostPath), end(devicePath)], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw (e as NodeJS.ErrnoException).code === "ENOENT" ? new SocatMissingError() : e;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let log = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`socat did not set up the pty pair within ${options.startTimeoutMs ?? 5000} ms: ${log.trim()}`)), options.startTimeoutMs ?? 5000);
      const done = (err?: Error) => {
        clearTimeout(timer);
        child.stderr!.off("data", onLog);
        child.off("error", onError);
        child.off("exit", onExit);
        if (err) reject(err);
        else resolve();
      };
      const onLog = (d: Buffer) => {
        log += d.toString();
        if (log.includes("starting data transfer loop")) done();
      };
      const onError = (e: NodeJS.ErrnoException) => done(e.code === "ENOENT" ? new SocatMissingError() : e);
      const onExit = (code: number | null) => done(new Error(`socat exited (code ${code}) before the pty pair was ready: ${log.trim()}`));
      child.stderr!.on("data", onLog);
      child.once("error", onError);
      child.once("exit", onExit);
    });
  } catch (e) {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  child.stderr!.resume(); // keep draining socat's log so it never blocks on a full pipe
  let closing: Promise<void> | undefined;
  return {
    hostPath,
    devicePath,
    pid: child.pid!,
    exited,
    close() {
      closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
        await rm(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
