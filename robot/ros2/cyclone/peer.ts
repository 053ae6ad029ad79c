/**
 * Runs the C test peer (native/peer/peer.c, built into build/native/ by
 * scripts/build-native.mjs) and collects the JSON lines it prints: what it
 * published and what it received, serialized by idlc-generated code rather
 * than by s2r. Tests and the ROS 2 benchmark use it as the far side.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { projectPath } from "../../../common/paths.js";
import { readNativeStatus } from "./native.js";

export interface PeerOptions {
  mode: "publish" | "echo";
  domainId: number;
  /** publish mode: JointState messages per second (integer). Default 100. */
  rate?: number;
  /** publish mode: stop after this many (0 = until stopped). Default 0. */
  count?: number;
  depth?: number;
  /** Print no per-message events (benchmarks). */
  quiet?: boolean;
  stateTopic?: string;
  commandTopic?: string;
  imageIn?: string;
  imageOut?: string;
  env?: NodeJS.ProcessEnv;
}

export interface PeerEvent {
  event: "ready" | "published" | "received";
  type?: string;
  msg?: Record<string, unknown>;
}

/** The peer executable, or undefined (with the reason) when it was not built. */
export function peerExecutable(): { path: string } | { reason: string } {
  const status = readNativeStatus();
  if (!status?.built || !status.peer) return { reason: status?.reason ?? "the native build has not run (no build/native-status.json)" };
  const path = projectPath(status.peer);
  return existsSync(path) ? { path } : { reason: `${path} is missing` };
}

/** JSON has no NaN/Infinity; the peer writes them as strings inside number arrays. */
function revive(key: string, value: unknown): unknown {
  if (/^\d+$/.test(key) && typeof value === "string") {
    if (value === "NaN") return Number.NaN;
    if (value === "Infinity") return Number.POSITIVE_INFINITY;
    if (value === "-Infinity") return Number.NEGATIVE_INFINITY;
  }
  return value;
}

export class TestPeer {
  readonly events: PeerEvent[] = [];
  private stderr = "";
  private exited: Promise<number | null>;
  private listeners = new Set<() => void>();
  private closed = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    let buffer = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.trim()) continue;
        try {
          this.events.push(JSON.parse(line, revive) as PeerEvent);
        } catch {
          this.stderr += `(stdout) ${line}\n`; // not ours (e.g. a Cyclone log line): keep it for error messages
        }
      }
      for (const l of [...this.listeners]) l();
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (this.stderr += chunk));
    // "close", not "exit": it comes after stdout is drained, so every line the peer printed is in events.
    this.exited = new Promise((resolve) =>
      child.on("close", (code) => {
        this.closed = true;
        for (const l of [...this.listeners]) l();
        resolve(code);
      }),
    );
  }

  static async start(opts: PeerOptions, timeoutMs = 5000): Promise<TestPeer> {
    const exe = peerExecutable();
    if ("reason" in exe) throw new Error(`ros2 test peer unavailable: ${exe.reason}`);
    const args = ["--mode", opts.mode, "--domain", String(opts.domainId)];
    if (opts.rate !== undefined) args.push("--rate", String(opts.rate));
    if (opts.count !== undefined) args.push("--count", String(opts.count));
    if (opts.depth !== undefined) args.push("--depth", String(opts.depth));
    if (opts.quiet) args.push("--quiet");
    if (opts.stateTopic) args.push("--state-topic", opts.stateTopic);
    if (opts.commandTopic) args.push("--command-topic", opts.commandTopic);
    if (opts.imageIn) args.push("--image-in", opts.imageIn);
    if (opts.imageOut) args.push("--image-out", opts.imageOut);
    const peer = new TestPeer(spawn(exe.path, args, { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] }));
    await peer.waitFor((events) => events.some((e) => e.event === "ready"), timeoutMs, "the peer to start");
    return peer;
  }

  /** Events of one kind and message type, e.g. ("received", "sensor_msgs/msg/JointState"). */
  messages(event: "published" | "received", type: string): Record<string, unknown>[] {
    return this.events.filter((e) => e.event === event && e.type === type).map((e) => e.msg!);
  }

  /** Resolves once done(events) holds; rejects on timeout or if the peer exits first. */
  waitFor(done: (events: PeerEvent[]) => boolean, timeoutMs: number, what = "the peer"): Promise<void> {
    return new Promise((resolve, reject) => {
      let finished = false;
      const check = () => {
        if (finished) return;
        if (done(this.events)) finish();
        else if (this.closed) finish(new Error(`ros2 test peer exited (${this.child.exitCode ?? this.child.signalCode}) while waiting for ${what}${this.stderr ? `: ${this.stderr.trim()}` : ""}`));
      };
      const finish = (err?: Error) => {
        finished = true;
        clearTimeout(timer);
        this.listeners.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${this.stderr ? ` (peer stderr: ${this.stderr.trim()})` : ""}`)), timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** Closes the peer's stdin (it exits on EOF); SIGKILL after 3 s. Resolves with its exit code. */
  async stop(): Promise<number | null> {
    if (!this.closed) {
      this.child.stdin.end();
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
      const code = await this.exited;
      clearTimeout(timer);
      return code;
    }
    return this.exited;
  }
}
