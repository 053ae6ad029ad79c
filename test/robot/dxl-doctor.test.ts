import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../launch/cli.js";
import { projectPath } from "../../common/paths.js";
import { spawnEmulator, type SpawnedEmulator } from "../../robot/emulator/spawn-emulator.js";
import { checkKernel, checkLatencyTimer, checkRealtime, competitors, sampleProcesses, serialDeviceOf, LATENCY_UDEV_RULE } from "../../robot/diagnostics/host-checks.js";
import { checkWireTime, cycleWireBytes } from "../../robot/diagnostics/bus-checks.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-dxl-doctor-"));
const spawned: SpawnedEmulator[] = [];
test.after(async () => {
  for (const e of spawned) await e.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function write(file: string, text: string): void {
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, text);
}

test("latency timer: read from the sysfs root for the tty behind the port's symlink; 16 ms warns with the command and a udev rule, 1 ms is fine", () => {
  const sys = join(dir, "sys1");
  const timer = join(sys, "bus/usb-serial/devices/ttyUSB0/latency_timer");
  write(timer, "16\n");
  write(join(dir, "dev1", "ttyUSB0"), "");
  symlinkSync(join(dir, "dev1", "ttyUSB0"), join(dir, "dev1", "u2d2"));
  const dev = serialDeviceOf(join(dir, "dev1", "u2d2"));
  assert.equal(dev.tty, "ttyUSB0");
  assert.equal(dev.kind, "usb-serial");
  const slow = checkLatencyTimer(dev, { sysfs: sys });
  assert.equal(slow.status, "warn");
  assert.match(slow.summary, /latency timer 16 ms.*FTDI default/);
  assert.ok(slow.advice!.includes(`echo 1 | sudo tee ${timer}`), slow.advice);
  assert.ok(slow.advice!.includes(LATENCY_UDEV_RULE));
  writeFileSync(timer, "1\n");
  assert.equal(checkLatencyTimer(dev, { sysfs: sys }).status, "ok");
  // No latency_timer file for this tty: said, not guessed.
  assert.match(checkLatencyTimer({ ...dev, tty: "ttyUSB1" }, { sysfs: sys }).summary, /no .*ttyUSB1\/latency_timer \(not an FTDI adapter\?\)/);
  assert.equal(checkLatencyTimer({ ...dev, tty: "ttyACM0", kind: "usb-acm" }, { sysfs: sys }).status, "info");
});

test("real-time availability from the proc root: CAP_SYS_NICE, an rtprio limit, or neither (with what to do)", () => {
  const proc = join(dir, "proc-rt");
  const limits = (rt: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax nice priority         0                    0\nMax realtime priority     ${rt}                    ${rt}\n`;
  write(join(proc, "self/status"), "Name:\tnode\nCapEff:\t0000000000000000\n");
  write(join(proc, "self/limits"), limits("0"));
  const none = checkRealtime({ proc });
  assert.equal(none.status, "warn");
  assert.match(none.advice!, /setcap cap_sys_nice\+ep/);
  assert.match(none.advice!, /rtprio 95/);
  write(join(proc, "self/limits"), limits("95"));
  assert.equal(checkRealtime({ proc }).status, "ok");
  assert.match(checkRealtime({ proc }).summary, /rtprio limit 95/);
  write(join(proc, "self/limits"), limits("0"));
  write(join(proc, "self/status"), "Name:\tnode\nCapEff:\t0000000000800000\n"); // bit 23
  assert.match(checkRealtime({ proc }).summary, /CAP_SYS_NICE/);
});

test("kernel: PREEMPT_RT is recognised and gets the irq-thread advice; others are told what they miss", () => {
  const proc = join(dir, "proc-kernel");
  write(join(proc, "version"), "Linux version 6.1.0-rt (gcc) #1 SMP PREEMPT_RT Debian\n");
  const rt = checkKernel({ proc, sysfs: join(dir, "no-sys") });
  assert.equal(rt.status, "ok");
  assert.match(rt.advice!, /chrt -f -p 60/);
  write(join(proc, "version"), "Linux version 6.1.0 (gcc) #1 SMP PREEMPT_DYNAMIC Debian\n");
  assert.match(checkKernel({ proc, sysfs: join(dir, "no-sys") }).summary, /PREEMPT_DYNAMIC kernel: .*time-shared/);
});

test("competition: busy time-shared and real-time processes are listed, lowered batch work is not", () => {
  const proc = join(dir, "proc-busy");
  // pid (comm) state ppid ... utime(14) stime(15) ... nice(19) ... policy(41)
  const stat = (pid: number, comm: string, ticks: number, nice: number, policy: number) => {
    const f = Array.from({ length: 50 }, () => "0");
    f[14] = String(ticks);
    f[15] = "0";
    f[19] = String(nice);
    f[41] = String(policy);
    return `${pid} (${comm}) S ${f.slice(4).join(" ")}`;
  };
  const procs: [number, string, number, number][] = [
    [100, "firefox web", 0, 0], // time-shared nice 0
    [101, "s2r train", 0, 3], // SCHED_BATCH
    [102, "make", 15, 0], // nice 15
    [103, "emulator", 0, 1], // SCHED_FIFO
    [104, "idle one", 0, 0], // not busy
  ];
  for (const [pid, comm, nice, policy] of procs) write(join(proc, String(pid), "stat"), stat(pid, comm, 1000, nice, policy));
  const before = sampleProcesses({ proc });
  assert.equal(before.get(100)!.name, "firefox web");
  for (const [pid, comm, nice, policy] of procs) write(join(proc, String(pid), "stat"), stat(pid, comm, pid === 104 ? 1001 : 1090, nice, policy));
  const after = sampleProcesses({ proc });
  const busy = competitors(before, after, 1, new Set());
  assert.deepEqual(busy.map((c) => [c.pid, c.cpuPercent, c.scheduling]), [[100, 90, "time-shared, nice 0"], [103, 90, "SCHED_FIFO"]]);
});

test("wire time: the bytes of one cycle against the period", () => {
  // Sync Read of 10 bytes from 2 IDs (16 B), two statuses (2 x 21 B), a Sync Write of 2 bytes to one motor (17 B).
  assert.equal(cycleWireBytes(2, 10, 1, 2), 16 + 42 + 17);
  assert.equal(checkWireTime(1_000_000, 75, 0.01, [0, 0]).status, "ok");
  const slow = checkWireTime(57_600, 75, 0.002, [500, 500]);
  assert.equal(slow.status, "warn");
  assert.match(slow.advice!, /raise the baud rate/);
});

async function doctor(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(["dxl", "doctor", ...argv], { out: (t) => (out += t), err: (t) => (err += t), interactive: false, signal: new AbortController().signal });
  return { code, out, err };
}

test("s2r dxl doctor against s2r emulate: devices, return delay with the fix, a measured Sync Read round trip, JSON and human output", { timeout: 120_000 }, async () => {
  const link = join(dir, "bus.tty");
  const emu = await spawnEmulator(["furuta", "--link", link]);
  spawned.push(emu);
  // The rig file without returnDelayMicros leaves the devices' return delays as found.
  // ID 1 set as the README recommends; ID 2 as shipped, Return Delay Time 250 (500 us).
  for (const [id, v] of [["1", "0"], ["2", "250"]]) {
    const set = await main(["dxl", "write", "--port", link, "--id", id!, "return_delay_time", v!], { out: () => {}, err: () => {}, interactive: false, signal: new AbortController().signal });
    assert.equal(set, 0);
  }
  const rig = JSON.parse(readFileSync(projectPath("robot", "rigs", "furuta.json"), "utf8"));
  delete rig.bus.returnDelayMicros;
  const rigFile = join(dir, "rig.json");
  writeFileSync(rigFile, JSON.stringify(rig));

  const r = await doctor(["--port", link, "--rig", rigFile, "--samples", "60", "--json", "--sysfs-root", join(dir, "sys-empty")]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { kind: string; checks: { name: string; status: string; summary: string; advice?: string }[]; roundTrip: { samples: number; timeouts: number; p50Micros: number; p99Micros: number; maxMicros: number } };
  const check = (name: string) => j.checks.find((c) => c.name === name)!;
  assert.equal(j.kind, "pty");
  assert.equal(check("latency_timer").status, "info");
  assert.equal(check("device 1").status, "ok");
  assert.equal(check("device 2").status, "ok");
  assert.equal(check("return_delay 1").status, "ok");
  assert.equal(check("return_delay 2").status, "warn");
  assert.match(check("return_delay 2").summary, /Return Delay Time 500 us/);
  assert.ok(check("return_delay 2").advice!.includes(`s2r dxl write --port ${link} --id 2 return_delay_time 0`));
  assert.equal(check("status_return 1").status, "ok");
  assert.equal(j.roundTrip.samples, 60);
  assert.ok(j.roundTrip.p50Micros > 0 && j.roundTrip.p50Micros <= j.roundTrip.p99Micros && j.roundTrip.p99Micros <= j.roundTrip.maxMicros, JSON.stringify(j.roundTrip));
  assert.ok(check("round_trip"));
  for (const name of ["baud", "realtime", "kernel", "competition"]) assert.ok(check(name), `check ${name}`);

  const human = await doctor(["--port", link, "--rig", rigFile, "--samples", "20"]);
  assert.equal(human.code, 0, human.err);
  assert.match(human.out, /\[WARN\] ID 2: Return Delay Time 500 us/);
  assert.match(human.out, /-> set 0 \(an EEPROM register: torque off first\)/);
  assert.match(human.out, /Sync Read round trip over 20: p50 \d+ us, p99 \d+ us, max \d+ us/);

  // A device that does not answer fails the doctor, and no round trip is timed without it.
  const missing = await doctor(["--port", link, "--ids", "1,2,7", "--timeout", "20", "--json"]);
  assert.equal(missing.code, 1);
  const m = JSON.parse(missing.out) as { checks: { name: string; status: string; summary: string }[]; roundTrip: unknown };
  assert.match(m.checks.find((c) => c.name === "device 7")!.summary, /ID 7: no answer at 1000000 baud/);
  assert.equal(m.roundTrip, null);
});
