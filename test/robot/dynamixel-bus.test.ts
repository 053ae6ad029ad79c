import test from "node:test";
import assert from "node:assert/strict";
import { DynamixelBus } from "../../robot/dynamixel/bus.js";
import { DxlCrcError, DxlPortLostError, DxlProtocolError, DxlStatusError, DxlTimeoutError } from "../../robot/dynamixel/errors.js";
import { Instruction } from "../../robot/dynamixel/protocol.js";
import { VirtualBus } from "../../robot/dynamixel/virtual-bus.js";
import { VirtualDevice } from "../../robot/dynamixel/virtual-device.js";
import { VirtualTransport, type VirtualTransportOptions } from "../../robot/dynamixel/virtual-transport.js";
import { encodeRegisterValue } from "../../robot/dynamixel/control-table.js";
import { crc16 } from "../../robot/dynamixel/crc.js";
import type { Transport } from "../../robot/dynamixel/transport.js";
import { xm430Register } from "../../robot/dynamixel/xm430.js";

function rig(options: { faults?: VirtualTransportOptions["faults"]; responseDelayMs?: number; timeoutMs?: number; retries?: number } = {}) {
  const d1 = new VirtualDevice({ id: 1, initial: { "Operating Mode": 16 } });
  const d2 = new VirtualDevice({ id: 2 });
  const vbus = new VirtualBus([d1, d2], { responseDelayMs: options.responseDelayMs ?? 0 });
  const transport = new VirtualTransport(vbus, { faults: options.faults });
  const bus = new DynamixelBus(transport, { timeoutMs: options.timeoutMs ?? 20, retries: options.retries });
  return { d1, d2, vbus, transport, bus };
}

test("ping, read, write and registers by name", async () => {
  const { d1, bus } = rig();
  assert.deepEqual(await bus.ping(1), { id: 1, alert: false, model: 1020, firmware: 46 });
  d1.setPresent("Present Position", 2048);
  const pos = await bus.readRegister(1, "present_position");
  assert.equal(pos.raw, 2048);
  assert.equal(pos.value, 180);
  assert.equal(pos.text, "2048 (180 °)");
  assert.deepEqual((await bus.read(1, 132, 4)).data, Uint8Array.from([0, 8, 0, 0]));
  assert.deepEqual(await bus.writeRegister(1, "GoalPWM", -100), { id: 1, alert: false });
  assert.equal(d1.get("Goal PWM"), -100);
  assert.deepEqual(await bus.write(1, 65, Uint8Array.from([1])), { id: 1, alert: false });
  assert.equal(d1.get("LED"), 1);
  await assert.rejects(bus.writeRegister(1, "present_position", 1), /Present Position \(132\) is read-only/);
  await assert.rejects(bus.writeRegister(1, "operating_mode", 2), /Operating Mode \(11\) accepts 0 \(Current Control Mode\), 1 .*; got 2/);
  await assert.rejects(bus.writeRegister(1, "goal_pwm", 70000), /holds a signed 2-byte integer/);
  await assert.rejects(bus.readRegister(1, "goal_pwn"), /did you mean "Goal PWM"/);
});

test("no answer: DxlTimeoutError names the ID, instruction and wait, after bounded retries", async () => {
  const { bus } = rig({ timeoutMs: 5 });
  const e = await bus.ping(7).catch((x: unknown) => x);
  assert.ok(e instanceof DxlTimeoutError);
  assert.equal(e.id, 7);
  assert.equal(e.instruction, Instruction.Ping);
  assert.equal(e.attempts, 3, "1 + 2 retries by default");
  assert.ok(e.waitedMs >= 5);
  assert.match(e.message, /^Ping to ID 7: no status packet after \d+\.\d ms \(attempt 3 of 3\)/);
  assert.equal(bus.stats.retries, 2);
  assert.equal(bus.stats.timeouts, 3);
  const once = await bus.read(7, 132, 4, { retries: 0 }).catch((x: unknown) => x);
  assert.ok(once instanceof DxlTimeoutError && once.attempts === 1);
});

test("a lost answer is retried for reads, never for writes unless asked", async () => {
  let drop = 0;
  const { d1, bus } = rig({ timeoutMs: 5, faults: (status) => (drop-- > 0 ? null : status) });
  drop = 2;
  assert.equal((await bus.ping(1)).model, 1020, "third attempt answers");
  drop = 3;
  await assert.rejects(bus.ping(1), DxlTimeoutError);

  let applied = 0;
  d1.onWrite(() => applied++);
  drop = 1;
  const e = await bus.writeRegister(1, "LED", 1).catch((x: unknown) => x);
  assert.ok(e instanceof DxlTimeoutError && e.attempts === 1);
  assert.equal(applied, 1, "the write reached the device once");
  drop = 2;
  await bus.writeRegister(1, "LED", 0, { retries: 2 });
  assert.equal(applied, 4, "asked for retries: sent three times");
});

test("a corrupted answer is a DxlCrcError, retried like silence", async () => {
  let corrupt = 0;
  const { bus } = rig({
    timeoutMs: 5,
    faults: (status) => {
      if (corrupt-- <= 0) return status;
      const bad = status.slice();
      bad[bad.length - 3]! ^= 0x10;
      return bad;
    },
  });
  corrupt = 1;
  assert.equal((await bus.readRegister(1, "Operating Mode")).raw, 16);
  corrupt = 10;
  const e = await bus.read(1, 11, 1).catch((x: unknown) => x);
  assert.ok(e instanceof DxlCrcError, String(e));
  assert.equal(e.attempts, 3);
  assert.match(e.message, /Read to ID 1: status packet failed its CRC check \(computed 0x[0-9a-f]{4}, received 0x[0-9a-f]{4}\) after 3 attempts/);
  assert.ok(bus.stats.crcErrors >= 4);
});

test("noise before an answer is skipped", async () => {
  const { bus } = rig({ faults: (status) => new Uint8Array([0x00, 0xff, 0x13, 0xff, 0xff, 0xfd, 0x00, 0xfd, ...status]) });
  assert.equal((await bus.ping(2)).id, 2);
  assert.ok(bus.stats.garbageBytes >= 5);
});

test("device errors are DxlStatusError with the e-manual's name", async () => {
  const { bus } = rig();
  const e = await bus.write(1, 132, encodeRegisterValue(xm430Register("Present Position"), 5)).catch((x: unknown) => x);
  assert.ok(e instanceof DxlStatusError);
  assert.equal(e.errorName, "Access Error");
  assert.equal(e.alert, false);
  assert.match(e.message, /^Write to ID 1 \(address 132, 4 bytes\): device reported Access Error \(the address is read-only or undefined/);
  await bus.writeRegister(1, "Torque Enable", 1);
  await assert.rejects(bus.writeRegister(1, "Operating Mode", 3), (x: unknown) => x instanceof DxlStatusError && x.errorName === "Access Error");
  await bus.writeRegister(1, "Torque Enable", 0);
  await bus.writeRegister(1, "PWM Limit", 443);
  await assert.rejects(bus.writeRegister(1, "Goal PWM", 500), (x: unknown) => x instanceof DxlStatusError && x.errorName === "Data Limit Error");
});

test("the alert bit reaches the caller, and Hardware Error Status is decoded by name", async () => {
  const { d2, bus } = rig();
  await bus.writeRegister(2, "Torque Enable", 1);
  d2.raiseHardwareError("Overload Error");
  assert.equal((await bus.ping(2)).alert, true);
  assert.equal((await bus.readRegister(2, "Present Position")).alert, true);
  assert.deepEqual(await bus.readHardwareError(2), { id: 2, alert: true, raw: 0x20, names: ["Overload Error"] });
  const e = await bus.writeRegister(2, "Torque Enable", 1).catch((x: unknown) => x);
  assert.ok(e instanceof DxlStatusError);
  assert.equal(e.errorName, "Result Fail");
  assert.equal(e.alert, true);
  assert.deepEqual(e.hardwareError?.names, ["Overload Error"]);
  assert.match(e.message, /alert bit set, Hardware Error Status = Overload Error \(reboot the device to clear it\)/);
  assert.deepEqual(await bus.reboot(2), { id: 2, alert: true });
  assert.equal((await bus.ping(2)).alert, false);
  // Without the explanation the message says where to look.
  const plain = new DxlStatusError(2, Instruction.Write, { byte: 0x87, alert: true, number: 7, name: "Access Error", meaning: "m" });
  assert.match(plain.message, /alert bit set: read Hardware Error Status \(address 70\) for the cause/);
});

test("Sync/Bulk Read and Write", async () => {
  const { d1, d2, bus } = rig();
  d1.setPresent("Present Position", -5);
  d2.setPresent("Present Position", 4000);
  const sync = await bus.syncRead([2, 1], 132, 4);
  assert.deepEqual([...sync.keys()], [2, 1]);
  assert.deepEqual(sync.get(1)!.data, encodeRegisterValue(xm430Register("Present Position"), -5));
  const missing = await bus.syncRead([1, 2, 3], 132, 4, { timeoutMs: 5, retries: 0 }).catch((x: unknown) => x);
  assert.ok(missing instanceof DxlTimeoutError);
  assert.deepEqual(missing.missingIds, [3]);
  assert.match(missing.message, /^Sync Read to ID 3/);

  const pwm = xm430Register("Goal PWM");
  await bus.syncWrite(100, 2, new Map([[1, encodeRegisterValue(pwm, 123)]]));
  assert.equal(d1.get("Goal PWM"), 123);
  await bus.bulkWrite([
    { id: 1, address: 65, data: Uint8Array.from([1]) },
    { id: 2, address: 100, data: encodeRegisterValue(pwm, -7) },
  ]);
  assert.deepEqual([d1.get("LED"), d2.get("Goal PWM")], [1, -7]);
  d2.setPresent("Present Temperature", 41);
  const bulk = await bus.bulkRead([
    { id: 1, address: 65, length: 1 },
    { id: 2, address: 146, length: 1 },
  ]);
  assert.deepEqual([bulk.get(1)!.data[0], bulk.get(2)!.data[0]], [1, 41]);
});

test("scan finds the devices that answer, in ID order", async () => {
  const { bus } = rig();
  const found = await bus.scan(undefined, { timeoutMs: 1 });
  assert.deepEqual(
    found.map((d) => [d.id, d.model, d.firmware]),
    [
      [1, 1020, 46],
      [2, 1020, 46],
    ],
  );
  assert.deepEqual((await bus.scan([2, 3, 4], { timeoutMs: 1 })).map((d) => d.id), [2]);
  const controller = new AbortController();
  controller.abort();
  assert.deepEqual(await bus.scan(undefined, { signal: controller.signal }), []);
});

test("requests are serialized: concurrent callers each get their own answer", async () => {
  const { d1, d2, bus } = rig({ responseDelayMs: 1 });
  d1.setPresent("Present Position", 111);
  d2.setPresent("Present Position", 222);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => bus.readRegister(i % 2 ? 2 : 1, "Present Position")));
  assert.deepEqual(
    results.map((r) => r.raw),
    Array.from({ length: 20 }, (_, i) => (i % 2 ? 222 : 111)),
  );
});

test("a late answer to an abandoned request does not stand in for the next one", async () => {
  const { d1, bus } = rig({ responseDelayMs: 25 });
  d1.setPresent("Present Position", 321);
  await assert.rejects(bus.ping(1, { timeoutMs: 5, retries: 0 }), DxlTimeoutError);
  const r = await bus.readRegister(1, "Present Position", { timeoutMs: 200 });
  assert.equal(r.raw, 321);
  assert.equal(bus.stats.strayPackets, 1, "the ping's answer arrived during the read and was set aside");
});

test("a vanished port fails the pending request and every later one with DxlPortLostError", async () => {
  const { transport, bus } = rig({ responseDelayMs: 50 });
  const pending = bus.ping(1, { timeoutMs: 60_000 }).catch((x: unknown) => x);
  setTimeout(() => transport.disconnect("adapter unplugged"), 5);
  const e = await pending;
  assert.ok(e instanceof DxlPortLostError, String(e));
  assert.match(e.message, /serial port virtual bus is gone \(adapter unplugged\)/);
  await assert.rejects(bus.read(1, 132, 4), DxlPortLostError);
  await bus.close();
  assert.ok(bus.lost);
});

test("a malformed answer is reported, not misread", async () => {
  // A status packet whose body is only the instruction byte: CRC fine, but no error byte.
  const body = Uint8Array.from([0xff, 0xff, 0xfd, 0x00, 0x01, 0x03, 0x00, 0x55]);
  const crc = crc16(body);
  const { bus } = rig({ timeoutMs: 5, faults: () => Uint8Array.from([...body, crc & 0xff, crc >> 8]) });
  const e = await bus.ping(1, { retries: 0 }).catch((x: unknown) => x);
  assert.ok(e instanceof DxlProtocolError, String(e));
  assert.match(e.message, /Ping: malformed status packet from ID 1: status packet without an error byte/);
});

test("the device's CRC Error (our packet garbled on the way) is retried for reads", async () => {
  const { vbus } = rig();
  const inner = new VirtualTransport(vbus);
  let garble = 1;
  const noisy: Transport = {
    path: inner.path,
    write: (bytes) => {
      if (garble-- <= 0) return inner.write(bytes);
      const bad = bytes.slice();
      bad[8]! ^= 0x01;
      return inner.write(bad);
    },
    onData: (l) => inner.onData(l),
    onLost: (l) => inner.onLost(l),
    close: () => inner.close(),
  };
  const bus = new DynamixelBus(noisy, { timeoutMs: 20 });
  assert.equal((await bus.readRegister(1, "Operating Mode")).raw, 16);
  assert.equal(bus.stats.retries, 1);
  garble = 1;
  const e = await bus.writeRegister(1, "LED", 1).catch((x: unknown) => x);
  assert.ok(e instanceof DxlStatusError && e.errorName === "CRC Error", String(e));
});
