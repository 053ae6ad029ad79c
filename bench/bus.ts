/**
 * Bus round trip against `s2r emulate` over a pseudo-terminal: one Sync Read
 * (2 IDs × 8 bytes: Present Velocity + Present Position) plus one Sync Write
 * of Goal PWM, as a control cycle spends on the bus, and the rig's own cycle
 * (its 10-byte Sync Read with Present Current, and its write). A pty has no
 * baud rate: these figures are the software path (serialport, socat, the
 * emulator's event loop, the OS scheduler), not 1 Mbaud wire time; the
 * `ptyEcho` figures measure socat + pty alone (an echo through `cat`), to
 * tell the two apart. On a real U2D2 at 1 Mbaud, a 2-ID Sync Read is about
 * 0.5 ms on the wire plus the adapter's USB latency.
 */

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamixelBus } from "../robot/dynamixel/bus.js";
import { spawnEmulator } from "../robot/emulator/spawn-emulator.js";
import { SampleSeries } from "../robot/control/sample-series.js";
import { DynamixelRig } from "../robot/rigs/dynamixel-rig.js";
import { loadRigConfig } from "../robot/rigs/rig-config.js";
import { openSerialTransport } from "../robot/serial/serial-transport.js";

const round = (x: number) => Math.round(x * 10) / 10;

/** Echo through socat and `cat`: the pty + socat share of a round trip. */
async function ptyEcho(dir: string, samples: number): Promise<SampleSeries> {
  const link = join(dir, "echo");
  const socat = spawn("socat", ["-d", "-d", `pty,rawer,echo=0,link=${link}`, "EXEC:cat"], { stdio: ["ignore", "ignore", "pipe"] });
  socat.stderr!.resume();
  try {
    for (let i = 0; i < 500 && !existsSync(link); i++) await new Promise((r) => setTimeout(r, 10));
    const port = await openSerialTransport(link);
    const series = new SampleSeries(samples);
    const packet = new Uint8Array(30).fill(0x55);
    let got = 0;
    let wake: (() => void) | undefined;
    port.onData((b) => {
      got += b.length;
      if (got >= packet.length) wake?.();
    });
    for (let i = 0; i < samples + 20; i++) {
      got = 0;
      const t0 = performance.now();
      const done = new Promise<void>((r) => (wake = r));
      await port.write(packet);
      await done;
      if (i >= 20) series.push((performance.now() - t0) * 1000);
      await new Promise((r) => setTimeout(r, 1));
    }
    await port.close();
    return series;
  } finally {
    socat.kill("SIGTERM");
  }
}

export async function benchBus(o: { quick: boolean; log: (line: string) => void } = { quick: false, log: () => {} }): Promise<Record<string, number>> {
  const samples = o.quick ? 500 : 5000;
  const dir = mkdtempSync(join(tmpdir(), "s2r-bench-bus-"));
  const emu = await spawnEmulator(["furuta", "--link", join(dir, "bus")]).catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  try {
    const rig = loadRigConfig("furuta");
    const calibration = { schema: 1, rig: rig.name, joints: Object.fromEntries(rig.devices.map((d) => [d.joint, { zeroCounts: 0, direction: 1 as const }])) };
    const transport = await openSerialTransport(emu.link, { baudRate: rig.bus.baudRate });
    // Generous timeout: a benchmark measures the tail rather than failing on it.
    const bus = new DynamixelBus(transport, { timeoutMs: 200, retries: 0 });
    const hw = new DynamixelRig(bus, rig, calibration);
    await hw.activate();
    const ids = [1, 2];
    const pwm = new Map([[1, new Uint8Array(2)]]);
    const pair = new SampleSeries(samples);
    const readOnly = new SampleSeries(samples);
    const cycle = new SampleSeries(samples);
    o.log(`${samples} round trips after 50 warm-up ones, 1 ms apart`);
    for (let i = 0; i < samples + 50; i++) {
      const t0 = performance.now();
      await bus.syncRead(ids, 128, 8);
      const t1 = performance.now();
      await bus.syncWrite(100, 2, pwm);
      const t2 = performance.now();
      await hw.read();
      await hw.write([0]);
      const t3 = performance.now();
      if (i >= 50) {
        pair.push((t2 - t0) * 1000);
        readOnly.push((t1 - t0) * 1000);
        cycle.push((t3 - t2) * 1000);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await hw.deactivate();
    await hw.close();
    o.log("pty echo baseline (socat + cat)");
    const echo = await ptyEcho(dir, o.quick ? 300 : 2000);
    return {
      roundTripP50Micros: round(pair.percentile(50)),
      roundTripP99Micros: round(pair.percentile(99)),
      roundTripMaxMicros: round(pair.max()),
      syncReadP50Micros: round(readOnly.percentile(50)),
      syncReadP99Micros: round(readOnly.percentile(99)),
      rigCycleP50Micros: round(cycle.percentile(50)),
      rigCycleP99Micros: round(cycle.percentile(99)),
      ptyEchoP50Micros: round(echo.percentile(50)),
      ptyEchoP99Micros: round(echo.percentile(99)),
      samples,
      timeouts: bus.stats.timeouts,
    };
  } finally {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
