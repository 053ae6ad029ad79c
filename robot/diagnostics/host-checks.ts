/**
 * What about this machine makes a serial bus slow or flaky, read from the
 * kernel's own files: the USB adapter's latency timer, whether real-time
 * scheduling is available, the kernel's preemption model, and what else is
 * using the CPU the serial path's kernel threads need.
 *
 * Every check reads files under a root (default /sys and /proc), so tests and
 * people can point it at a copy: the code reads real files, only where they
 * are is a parameter.
 */

import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename } from "node:path";
import { parseProcStat, SCHED_POLICY_NAMES } from "../../common/proc-stat.js";

export type CheckStatus = "ok" | "warn" | "fail" | "info";

export interface DoctorCheck {
  /** Short id, e.g. "latency_timer". */
  name: string;
  status: CheckStatus;
  /** One line: what was found. */
  summary: string;
  /** What to do about it (commands included), when something is to be done. */
  advice?: string;
  data?: Record<string, unknown>;
}

export interface HostRoots {
  /** Default "/sys". */
  sysfs?: string;
  /** Default "/proc". */
  proc?: string;
}

export type SerialKind = "usb-serial" | "usb-acm" | "pty" | "other";

export interface SerialDevice {
  /** The port as given. */
  port: string;
  /** After symlinks, e.g. /dev/ttyUSB0 or /dev/pts/3. */
  device: string;
  /** e.g. ttyUSB0. */
  tty: string;
  kind: SerialKind;
}

/** What sits behind a port path (a udev symlink such as /dev/serial/by-id/..., an emulator's link). */
export function serialDeviceOf(port: string): SerialDevice {
  let device = port;
  try {
    device = realpathSync(port);
  } catch {
    // Reported by the bus check when the port cannot be opened.
  }
  const tty = basename(device);
  const kind: SerialKind = /^ttyUSB\d+$/.test(tty) ? "usb-serial" : /^ttyACM\d+$/.test(tty) ? "usb-acm" : device.startsWith("/dev/pts/") ? "pty" : "other";
  return { port, device, tty, kind };
}

/** The udev rule that sets latency_timer to 1 for every FTDI adapter when it is plugged in. */
export const LATENCY_UDEV_RULE = 'ACTION=="add", SUBSYSTEM=="usb-serial", DRIVER=="ftdi_sio", ATTR{latency_timer}="1"';

/**
 * An FTDI adapter holds received bytes for up to latency_timer ms (16 by
 * default) before passing them to the host: a status packet can wait that
 * long, longer than a control period.
 */
export function checkLatencyTimer(dev: SerialDevice, roots: HostRoots = {}): DoctorCheck {
  const sysfs = roots.sysfs ?? "/sys";
  const file = `${sysfs}/bus/usb-serial/devices/${dev.tty}/latency_timer`;
  if (dev.kind === "pty") return { name: "latency_timer", status: "info", summary: `${dev.device} is a pseudo-terminal (e.g. s2r emulate), not a USB adapter: no latency timer` };
  if (dev.kind === "usb-acm") return { name: "latency_timer", status: "info", summary: `${dev.tty} is a USB CDC-ACM device (e.g. an OpenRB or OpenCR board): it has no latency timer; it sends bytes as its firmware flushes them` };
  if (!existsSync(file)) {
    return { name: "latency_timer", status: "info", summary: dev.kind === "usb-serial" ? `${dev.tty}: no ${file} (not an FTDI adapter?)` : `${dev.device} is not a USB serial adapter: no latency timer to check` };
  }
  const raw = readFileSync(file, "utf8").trim();
  const ms = Number(raw);
  if (!Number.isFinite(ms)) return { name: "latency_timer", status: "warn", summary: `${file}: unreadable value ${JSON.stringify(raw)}` };
  if (ms <= 1) return { name: "latency_timer", status: "ok", summary: `${dev.tty} latency timer ${ms} ms`, data: { ms, file } };
  return {
    name: "latency_timer",
    status: "warn",
    summary: `${dev.tty} latency timer ${ms} ms: the adapter may hold a status packet up to ${ms} ms before the host sees it${ms >= 16 ? " (the FTDI default)" : ""}`,
    advice:
      `set it to 1 ms now: echo 1 | sudo tee ${file}\n` +
      `and at every plug-in, with a udev rule: echo '${LATENCY_UDEV_RULE}' | sudo tee /etc/udev/rules.d/99-dynamixel-latency.rules && sudo udevadm control --reload-rules`,
    data: { ms, file },
  };
}

const CAP_SYS_NICE = 23;

/** SCHED_FIFO needs CAP_SYS_NICE or an rtprio limit above 0. */
export function checkRealtime(roots: HostRoots = {}, pid: number | "self" = "self"): DoctorCheck {
  const proc = roots.proc ?? "/proc";
  let capSysNice = false;
  let rtprio: string | undefined;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync(`${proc}/${pid}/status`, "utf8"));
    if (m) capSysNice = ((BigInt(`0x${m[1]}`) >> BigInt(CAP_SYS_NICE)) & 1n) === 1n;
  } catch {
    /* no status: counted as no capability */
  }
  try {
    const m = /^Max realtime priority\s+(\S+)\s+(\S+)/m.exec(readFileSync(`${proc}/${pid}/limits`, "utf8"));
    if (m) rtprio = m[1];
  } catch {
    /* no limits file */
  }
  const limit = rtprio === undefined ? 0 : rtprio === "unlimited" ? 99 : Number(rtprio);
  const data = { capSysNice, rtprioLimit: rtprio ?? "unknown" };
  if (capSysNice) return { name: "realtime", status: "ok", summary: "real-time scheduling available (CAP_SYS_NICE): the loop runs under SCHED_FIFO", data };
  if (limit > 0) return { name: "realtime", status: "ok", summary: `real-time scheduling available (rtprio limit ${rtprio}): the loop runs under SCHED_FIFO${limit < 50 ? `; pass --rt-priority ${limit} or lower (the default 50 is above the limit)` : ""}`, data };
  return {
    name: "realtime",
    status: "warn",
    summary: "no real-time scheduling (no CAP_SYS_NICE, rtprio limit 0): the loop runs time-shared and misses deadlines while other programs run",
    advice:
      "either grant node the capability: sudo setcap cap_sys_nice+ep $(readlink -f $(which node))\n" +
      'or allow your user real-time priorities: echo "$USER - rtprio 95" | sudo tee /etc/security/limits.d/99-realtime.conf (log in again)',
    data,
  };
}

/** The preemption model the kernel was built with (uname -v), and whether it is PREEMPT_RT. */
export function checkKernel(roots: HostRoots = {}): DoctorCheck {
  const proc = roots.proc ?? "/proc";
  const sysfs = roots.sysfs ?? "/sys";
  let version = "";
  try {
    version = readFileSync(`${proc}/version`, "utf8").trim();
  } catch {
    return { name: "kernel", status: "info", summary: `cannot read ${proc}/version` };
  }
  let rt = /PREEMPT_RT/.test(version);
  try {
    rt ||= readFileSync(`${sysfs}/kernel/realtime`, "utf8").trim() === "1";
  } catch {
    /* absent on non-RT kernels */
  }
  const model = rt ? "PREEMPT_RT" : /PREEMPT_DYNAMIC/.test(version) ? "PREEMPT_DYNAMIC" : /\bPREEMPT\b/.test(version) ? "PREEMPT" : "not preemptible (server)";
  if (rt) {
    return {
      name: "kernel",
      status: "ok",
      summary: "PREEMPT_RT kernel: interrupt handlers run in threads whose priority can be raised",
      advice: "keep the adapter's interrupt thread above the loop: sudo chrt -f -p 60 $(pgrep 'irq/.*xhci') (the loop asks for FIFO 50)",
      data: { model, version },
    };
  }
  return {
    name: "kernel",
    status: "info",
    summary: `${model} kernel: the serial path's interrupt work and kworker threads are time-shared, so busy programs can delay bus replies by milliseconds`,
    advice: "for the tightest timing install a PREEMPT_RT kernel (Debian/Ubuntu: linux-image-rt-amd64 / linux-realtime) and raise the adapter's irq thread (chrt -f -p 60 $(pgrep 'irq/.*xhci'))",
    data: { model, version },
  };
}

/** CPU time, scheduling and name of each process, from <proc>/<pid>/stat. */
export interface ProcessSample {
  pid: number;
  name: string;
  /** utime + stime, clock ticks. */
  ticks: number;
  policy: number;
  nice: number;
}

export function sampleProcesses(roots: HostRoots = {}): Map<number, ProcessSample> {
  const proc = roots.proc ?? "/proc";
  const out = new Map<number, ProcessSample>();
  let entries: string[];
  try {
    entries = readdirSync(proc);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`${proc}/${e}/stat`, "utf8");
    } catch {
      continue; // ended meanwhile
    }
    const s = parseProcStat(stat);
    out.set(Number(e), { pid: Number(e), name: s.name, ticks: s.field(14) + s.field(15), nice: s.field(19), policy: s.field(41) || 0 });
  }
  return out;
}

const POLICY = { other: 0, fifo: 1, rr: 2, batch: 3, idle: 5 } as const;

export interface Competitor {
  pid: number;
  name: string;
  /** Share of one CPU over the sample, %. */
  cpuPercent: number;
  scheduling: string;
}

/**
 * Processes that took CPU between two samples and compete with time-shared
 * kernel threads (nice 0): time-shared at nice < 10, or real-time. Batch
 * work at SCHED_BATCH/SCHED_IDLE or nice >= 10 yields and is not listed.
 */
export function competitors(before: Map<number, ProcessSample>, after: Map<number, ProcessSample>, seconds: number, ignore: Set<number>, ticksPerSecond = 100, minPercent = 10): Competitor[] {
  const out: Competitor[] = [];
  for (const [pid, a] of after) {
    const b = before.get(pid);
    if (!b || ignore.has(pid)) continue;
    const cpuPercent = ((a.ticks - b.ticks) / ticksPerSecond / seconds) * 100;
    if (cpuPercent < minPercent) continue;
    const realtime = a.policy === POLICY.fifo || a.policy === POLICY.rr;
    const yields = a.policy === POLICY.batch || a.policy === POLICY.idle || a.nice >= 10;
    if (yields && !realtime) continue;
    out.push({ pid, name: a.name, cpuPercent: Math.round(cpuPercent), scheduling: realtime ? SCHED_POLICY_NAMES[a.policy]! : `time-shared, nice ${a.nice}` });
  }
  return out.sort((x, y) => y.cpuPercent - x.cpuPercent);
}

/** Load average against the CPUs, and the processes competing with the serial path's kernel threads over `seconds`. */
export async function checkCompetition(roots: HostRoots = {}, seconds = 1, ignore: Set<number> = new Set([process.pid])): Promise<DoctorCheck> {
  const proc = roots.proc ?? "/proc";
  const cpus = availableParallelism();
  let load1 = NaN;
  try {
    load1 = Number(readFileSync(`${proc}/loadavg`, "utf8").split(" ")[0]);
  } catch {
    /* reported as unknown */
  }
  const before = sampleProcesses(roots);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = sampleProcesses(roots);
  const busy = competitors(before, after, seconds, ignore);
  const data = { load1, cpus, competitors: busy };
  const loaded = load1 > 0.7 * cpus;
  if (!loaded && busy.length === 0) return { name: "competition", status: "ok", summary: `load ${Number.isFinite(load1) ? load1.toFixed(2) : "unknown"} on ${cpus} CPUs; nothing busy competes with the serial path's kernel threads`, data };
  const list = busy.slice(0, 5).map((c) => `${c.name} (pid ${c.pid}, ${c.cpuPercent} % CPU, ${c.scheduling})`).join(", ");
  return {
    name: "competition",
    status: "warn",
    summary: `load ${load1.toFixed(2)} on ${cpus} CPUs${busy.length ? `; competing with the serial path's time-shared kernel threads: ${list}` : ""}`,
    advice:
      "run batch work lowered (s2r train and sysid fit do by default: --priority batch), or lower a running job: sudo renice -n 10 -p PID; chrt --batch --all-tasks -p 0 PID\n" +
      "on a PREEMPT_RT kernel raise the adapter's irq thread above the busy work (chrt -f -p 60 $(pgrep 'irq/.*xhci'))",
    data,
  };
}
