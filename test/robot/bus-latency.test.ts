import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BusLatency, parseBusLatency } from "../../robot/emulator/bus-latency.js";
import { spawnEmulator } from "../../robot/emulator/spawn-emulator.js";
import { DynamixelBus } from "../../robot/dynamixel/bus.js";
import { openSerialTransport } from "../../robot/serial/serial-transport.js";
import { XM430_W350 } from "../../robot/dynamixel/xm430.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-latency-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

test("reply delays have the given median and 99th percentile, never exceed max, and repeat with the seed", () => {
  const spec = parseBusLatency("p50=1ms,p99=4ms,max=15ms");
  assert.deepEqual(spec, { p50Ms: 1, p99Ms: 4, maxMs: 15, stall: 0.002 });
  const l = new BusLatency(spec, 5);
  const d = Array.from({ length: 200_000 }, () => l.nextMs()).sort((a, b) => a - b);
  assert.ok(Math.abs(quantile(d, 0.5) - 1) < 0.03, `p50 ${quantile(d, 0.5)}`);
  // The stalls (0.2 %, between p99 and max) lift the 99th percentile a little.
  assert.ok(quantile(d, 0.99) > 3.9 && quantile(d, 0.99) < 4.6, `p99 ${quantile(d, 0.99)}`);
  assert.ok(d[d.length - 1]! <= 15);
  assert.ok(quantile(d, 0.9995) > 8, "stalls reach into the tail");
  const a = new BusLatency(spec, 9), b = new BusLatency(spec, 9);
  for (let i = 0; i < 100; i++) assert.equal(a.nextMs(), b.nextMs());
});

test("bus latency specs: units, a config file, and clear errors", () => {
  assert.deepEqual(parseBusLatency("p50=500us, p99=2, max=10ms, stall=0"), { p50Ms: 0.5, p99Ms: 2, maxMs: 10, stall: 0 });
  const f = join(dir, "latency.json");
  writeFileSync(f, JSON.stringify({ p50Ms: 1, p99Ms: 5, maxMs: 15 }));
  assert.deepEqual(parseBusLatency(f), { p50Ms: 1, p99Ms: 5, maxMs: 15, stall: 0.002 });
  writeFileSync(f, JSON.stringify({ p50Ms: 1, p99Ms: 5, maxMs: 2 }));
  assert.throws(() => parseBusLatency(f), /latency\.json: max: must be >= p99/);
  assert.throws(() => parseBusLatency("p50=1ms,p99=5ms"), /bus-latency\.max: required/);
  assert.throws(() => parseBusLatency("p50=1ms,p99=0.5ms,max=3ms"), /bus-latency\.p99: must be >= p50/);
  assert.throws(() => parseBusLatency("p50=1s,p99=5ms,max=9ms"), /cannot read "p50=1s"/);
  assert.throws(() => parseBusLatency("p50=1ms,p50=2ms,p99=5ms,max=9ms"), /bus-latency\.p50: given twice/);
});

test("s2r emulate --bus-latency delays the answers over the pty: round trips show the shape", async () => {
  const emu = await spawnEmulator(["furuta", "--link", join(dir, "bus"), "--bus-latency", "p50=3ms,p99=6ms,max=9ms,stall=0", "--seed", "2", "--rt-priority", "0"]);
  assert.deepEqual(emu.ready.busLatency, { p50Ms: 3, p99Ms: 6, maxMs: 9, stall: 0 });
  const transport = await openSerialTransport(emu.link, { baudRate: 1_000_000 });
  const bus = new DynamixelBus(transport, { timeoutMs: 50, table: XM430_W350 });
  try {
    const rtt: number[] = [];
    for (let i = 0; i < 120; i++) {
      const t = performance.now();
      await bus.syncRead([1, 2], 126, 10);
      rtt.push(performance.now() - t);
    }
    rtt.sort((a, b) => a - b);
    // Without delays a round trip here takes well under a millisecond (bench bus: p50 0.23 ms).
    assert.ok(rtt[0]! >= 1, `fastest ${rtt[0]} ms: every answer is delayed`);
    assert.ok(quantile(rtt, 0.25) > 2, `first quartile ${quantile(rtt, 0.25)} ms`);
    assert.ok(quantile(rtt, 0.5) > 2.6 && quantile(rtt, 0.5) < 5, `median ${quantile(rtt, 0.5)} ms`);
  } finally {
    await transport.close();
    await emu.stop();
  }
  assert.match(emu.stderr(), /answers delayed, mean \d+\.\d+ ms, max [0-8]\.\d+ ms/);
});
