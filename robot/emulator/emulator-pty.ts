/**
 * The pseudo-terminal of an emulator: socat makes a pty whose slave is linked
 * at the path the user chose (what `s2r deploy --port` opens) and relays its
 * bytes to and from the emulator over socat's stdin and stdout.
 *
 * Pipes rather than a second pty on the emulator's side: the kernel hands pty
 * bytes on through a time-shared workqueue thread, a pipe wakes its reader
 * directly. With a pty on each side a bus round trip took four workqueue hops,
 * and ftrace showed one of them waiting 3.4 ms behind a kernel thread while
 * the other core was idle; now it takes two, as with a real USB adapter.
 *
 * If the emulator dies (even killed outright), socat's stdin ends and socat
 * exits (-t: at once), removing the link: the host's port vanishes as if the
 * adapter had been unplugged, rather than staying open and silent.
 *
 * (robot/serial/pty-pair.ts makes anonymous pty pairs for tests; this one
 * needs a chosen path and the die-with-the-emulator behaviour.)
 */

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { DxlPortLostError } from "../dynamixel/errors.js";
import type { Transport } from "../dynamixel/transport.js";
import { SocatMissingError } from "../serial/pty-pair.js";

export interface EmulatorPty {
  /** The path the host opens. */
  readonly hostPath: string;
  /** The emulator's end: bytes the host writes arrive here, bytes written here reach the host. */
  readonly device: Transport;
  readonly pid: number;
  readonly exited: Promise<void>;
  /** Resolves once socat relays bytes; serve only after it. */
  readonly relaying: Promise<void>;
  /** Stops socat (the host's port and its link vanish); idempotent. */
  close(): Promise<void>;
}

export async function createEmulatorPty(hostPath: string, options: { startTimeoutMs?: number; socat?: string } = {}): Promise<EmulatorPty> {
  const timeoutMs = options.startTimeoutMs ?? 5000;
  // -t: after one side's EOF, socat lingers this long (default 0.5 s) before exiting; the host should see the port vanish at once.
  const child = spawn(options.socat ?? "socat", ["-d", "-d", "-t", "0.01", `pty,rawer,echo=0,link=${hostPath}`, "STDIO"], {
    stdio: ["pipe", "pipe", "pipe"],
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
    while (!existsSync(hostPath)) {
      if (spawnError) throw spawnError.code === "ENOENT" ? new SocatMissingError() : spawnError;
      if (exitedEarly) throw new Error(`socat exited before the pty was ready: ${log.trim()}`);
      if (performance.now() > deadline) throw new Error(`socat did not set up the pty within ${timeoutMs} ms: ${log.trim()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }

  const describe = `${hostPath} (emulator side)`;
  const dataListeners = new Set<(bytes: Uint8Array) => void>();
  const lostListeners = new Set<(e: DxlPortLostError) => void>();
  let gone: DxlPortLostError | undefined;
  const markLost = (reason: string) => {
    if (gone) return;
    gone = new DxlPortLostError(describe, reason);
    for (const l of lostListeners) l(gone);
  };
  child.stdout!.on("data", (chunk: Buffer) => {
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    for (const l of dataListeners) l(bytes);
  });
  void exited.then(() => markLost("socat exited"));
  // A write racing socat's exit fails with EPIPE: that is the loss above, not a crash.
  child.stdin!.on("error", (e) => markLost(e.message));

  const device: Transport = {
    path: describe,
    write(bytes) {
      if (gone) return Promise.reject(gone);
      return new Promise((resolve, reject) => child.stdin!.write(bytes, (err) => (err ? reject(gone ?? new DxlPortLostError(describe, err.message)) : resolve())));
    },
    onData(listener) {
      dataListeners.add(listener);
      return () => dataListeners.delete(listener);
    },
    onLost(listener) {
      lostListeners.add(listener);
      return () => lostListeners.delete(listener);
    },
    async close() {
      gone ??= new DxlPortLostError(describe, undefined, true);
      child.stdin!.end();
    },
  };

  let closing: Promise<void> | undefined;
  return {
    hostPath,
    device,
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
