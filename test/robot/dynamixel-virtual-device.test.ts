import test from "node:test";
import assert from "node:assert/strict";
import { VirtualDevice } from "../../robot/dynamixel/virtual-device.js";
import { VirtualBus } from "../../robot/dynamixel/virtual-bus.js";
import { encodeInstructionPacket, Instruction, BROADCAST_ID, StatusErrorNumber as E, type Packet } from "../../robot/dynamixel/protocol.js";
import { PacketParser } from "../../robot/dynamixel/parser.js";
import { bulkReadParams, readParams, syncReadParams, syncWriteParams, writeParams } from "../../robot/dynamixel/instruction-params.js";
import { decodeRegisterValue, encodeRegisterValue } from "../../robot/dynamixel/control-table.js";
import { xm430Register } from "../../robot/dynamixel/xm430.js";

const bytes = (...b: number[]) => Uint8Array.from(b);

/** Sends one instruction packet; returns the devices' status packets, decoded. */
function send(bus: VirtualBus, id: number, instruction: number, params: Uint8Array = new Uint8Array(0), nowMs = 0): Packet[] {
  const wire = bus.receive(encodeInstructionPacket(id, instruction, params), nowMs);
  return wire.flatMap((w) => new PacketParser().push(w)).map((e) => (e as { packet: Packet }).packet);
}

function writeReg(bus: VirtualBus, id: number, name: string, value: number, nowMs = 0): Packet | undefined {
  const e = xm430Register(name);
  return send(bus, id, Instruction.Write, writeParams(e.address, encodeRegisterValue(e, value)), nowMs)[0];
}

function readReg(bus: VirtualBus, id: number, name: string, nowMs = 0): { error: number; value?: number } {
  const e = xm430Register(name);
  const [p] = send(bus, id, Instruction.Read, readParams(e.address, e.size), nowMs);
  return p!.error! & 0x7f ? { error: p!.error! } : { error: p!.error!, value: decodeRegisterValue(e, p!.params) };
}

test("answers the e-manual's examples byte for byte (Protocol 2.0 > Instruction Details)", () => {
  const w210 = { "Model Number": 1030 };
  const d1 = new VirtualDevice({ id: 1, firmware: 38, initial: w210 });
  const d2 = new VirtualDevice({ id: 2, firmware: 38, initial: w210 });
  const bus = new VirtualBus([d2, d1]); // wired in any order: answers still come in ID / listed order
  const wire = (id: number, inst: number, params?: Uint8Array) => bus.receive(encodeInstructionPacket(id, inst, params), 0);
  // Ping Example 2 (broadcast): ID 1 then ID 2
  assert.deepEqual(wire(BROADCAST_ID, Instruction.Ping), [
    bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x07, 0x00, 0x55, 0x00, 0x06, 0x04, 0x26, 0x65, 0x5d),
    bytes(0xff, 0xff, 0xfd, 0x00, 0x02, 0x07, 0x00, 0x55, 0x00, 0x06, 0x04, 0x26, 0x6f, 0x6d),
  ]);
  // Sync Read Example: Present Position 166 and 2079
  d1.setPresent("Present Position", 166);
  d2.setPresent("Present Position", 2079);
  assert.deepEqual(wire(BROADCAST_ID, Instruction.SyncRead, syncReadParams(132, 4, [1, 2])), [
    bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x08, 0x00, 0x55, 0x00, 0xa6, 0x00, 0x00, 0x00, 0x8c, 0xc0),
    bytes(0xff, 0xff, 0xfd, 0x00, 0x02, 0x08, 0x00, 0x55, 0x00, 0x1f, 0x08, 0x00, 0x00, 0xba, 0xbe),
  ]);
  // listed order decides, not ID order
  assert.deepEqual(send(bus, BROADCAST_ID, Instruction.SyncRead, syncReadParams(132, 4, [2, 1])).map((p) => p.id), [2, 1]);
  // Bulk Read Example: Present Input Voltage 119 of ID 1, Present Temperature 36 of ID 2
  d1.setPresent("Present Input Voltage", 119);
  d2.setPresent("Present Temperature", 36);
  const bulk = bulkReadParams([
    { id: 1, address: 144, length: 2 },
    { id: 2, address: 146, length: 1 },
  ]);
  assert.deepEqual(wire(BROADCAST_ID, Instruction.BulkRead, bulk), [
    bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x06, 0x00, 0x55, 0x00, 0x77, 0x00, 0xc3, 0x69),
    bytes(0xff, 0xff, 0xfd, 0x00, 0x02, 0x05, 0x00, 0x55, 0x00, 0x24, 0x8b, 0xa9),
  ]);
  // Write Example (512 to Goal Position) and Reboot Example: plain status
  const ok = bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x04, 0x00, 0x55, 0x00, 0xa1, 0x0c);
  assert.deepEqual(wire(1, Instruction.Write, writeParams(116, bytes(0x00, 0x02, 0x00, 0x00))), [ok]);
  assert.equal(d1.get("goal_position"), 512);
  assert.deepEqual(wire(1, Instruction.Reboot), [ok]);
});

test("broadcast Write is applied by every device and answered by none", () => {
  const bus = new VirtualBus([new VirtualDevice({ id: 1 }), new VirtualDevice({ id: 2 })]);
  assert.deepEqual(send(bus, BROADCAST_ID, Instruction.Write, writeParams(65, bytes(1))), []);
  assert.deepEqual(bus.devices.map((d) => d.get("LED")), [1, 1]);
  assert.deepEqual(send(bus, BROADCAST_ID, Instruction.Read, readParams(65, 1)), []);
  assert.deepEqual(send(bus, 9, Instruction.Ping), [], "no device with ID 9");
});

test("EEPROM accepts writes only while torque is off (Access Error otherwise)", () => {
  const bus = new VirtualBus([new VirtualDevice({ id: 1 })]);
  assert.equal(writeReg(bus, 1, "Torque Enable", 1)!.error, 0);
  assert.equal(writeReg(bus, 1, "Operating Mode", 16)!.error, E.AccessError);
  assert.equal(bus.device(1)!.get("Operating Mode"), 3, "refused write changed nothing");
  assert.equal(writeReg(bus, 1, "PWM Limit", 443)!.error, E.AccessError);
  assert.equal(writeReg(bus, 1, "Torque Enable", 0)!.error, 0);
  assert.equal(writeReg(bus, 1, "Operating Mode", 16)!.error, 0);
  assert.equal(bus.device(1)!.get("Operating Mode"), 16);
});

test("read-only registers, undefined addresses and partial registers are refused", () => {
  const bus = new VirtualBus([new VirtualDevice({ id: 1 })]);
  assert.equal(writeReg(bus, 1, "Present Position", 5)!.error, E.AccessError);
  assert.equal(writeReg(bus, 1, "Model Number", 5)!.error, E.AccessError);
  assert.equal(send(bus, 1, Instruction.Write, writeParams(14, bytes(0)))[0]!.error, E.AccessError, "address 14 is not defined");
  assert.equal(send(bus, 1, Instruction.Write, writeParams(100, bytes(10)))[0]!.error, E.DataLengthError, "half of Goal PWM");
  assert.equal(send(bus, 1, Instruction.Write, writeParams(101, bytes(10)))[0]!.error, E.DataLengthError, "starts inside Goal PWM");
  assert.equal(send(bus, 1, Instruction.Read, readParams(140, 10))[0]!.error, E.AccessError, "beyond the table");
  assert.equal(send(bus, 1, Instruction.Read, bytes(1, 2, 3))[0]!.error, E.DataLengthError, "malformed Read parameters");
  assert.equal(send(bus, 1, 0x77)[0]!.error, E.InstructionError, "undefined instruction");
});

test("ranges give Data Range Error, limits set by other registers give Data Limit Error; refused writes are atomic", () => {
  const bus = new VirtualBus([new VirtualDevice({ id: 1, initial: { "Operating Mode": 16 } })]);
  const d = bus.device(1)!;
  assert.equal(writeReg(bus, 1, "PWM Limit", 443)!.error, 0);
  assert.equal(writeReg(bus, 1, "Goal PWM", 443)!.error, 0);
  assert.equal(writeReg(bus, 1, "Goal PWM", -443)!.error, 0);
  assert.equal(writeReg(bus, 1, "Goal PWM", 444)!.error, E.DataLimitError);
  assert.equal(writeReg(bus, 1, "Goal PWM", -500)!.error, E.DataLimitError);
  assert.equal(writeReg(bus, 1, "Goal PWM", 900)!.error, E.DataRangeError, "beyond ±885 whatever the limit");
  assert.equal(writeReg(bus, 1, "Operating Mode", 2)!.error, E.DataRangeError);
  assert.equal(writeReg(bus, 1, "LED", 2)!.error, E.DataRangeError);
  assert.equal(writeReg(bus, 1, "Bus Watchdog", 128)!.error, E.DataRangeError);
  assert.equal(d.get("Goal PWM"), -443);
  // Goal PWM (valid) and Goal Current (beyond Current Limit) in one packet: neither is applied.
  const both = new Uint8Array([...encodeRegisterValue(xm430Register("Goal PWM"), 100), ...encodeRegisterValue(xm430Register("Goal Current"), 1194)]);
  assert.equal(send(bus, 1, Instruction.Write, writeParams(100, both))[0]!.error, E.DataRangeError);
  assert.equal(d.get("Goal PWM"), -443);
  // Goal Position is bounded by the position limits only in Position Control Mode.
  assert.equal(writeReg(bus, 1, "Goal Position", 5000)!.error, 0);
  assert.equal(writeReg(bus, 1, "Operating Mode", 3)!.error, 0);
  assert.equal(writeReg(bus, 1, "Goal Position", 5000)!.error, E.DataLimitError);
});

test("switching Operating Mode resets Goal PWM to PWM Limit, as the e-manual notes", () => {
  const bus = new VirtualBus([new VirtualDevice({ id: 1, initial: { "PWM Limit": 600 } })]);
  assert.equal(bus.device(1)!.get("Goal PWM"), 600, "power-up value copies PWM Limit");
  writeReg(bus, 1, "Goal PWM", 10);
  writeReg(bus, 1, "Operating Mode", 16);
  assert.equal(bus.device(1)!.get("Goal PWM"), 600);
});

test("a hardware error disables torque and sets the alert bit in every status packet until Reboot", () => {
  const bus = new VirtualBus([new VirtualDevice({ id: 1 })]);
  const d = bus.device(1)!;
  writeReg(bus, 1, "Torque Enable", 1);
  d.raiseHardwareError("Overload Error");
  assert.equal(d.torqueEnabled, false);
  assert.equal(send(bus, 1, Instruction.Ping)[0]!.error, 0x80);
  const hes = send(bus, 1, Instruction.Read, readParams(70, 1))[0]!;
  assert.equal(hes.error, 0x80);
  assert.deepEqual(hes.params, bytes(0x20));
  assert.equal(writeReg(bus, 1, "LED", 1)!.error, 0x80, "other writes work, still flagged");
  assert.equal(writeReg(bus, 1, "Torque Enable", 1)!.error, 0x80 | E.ResultFail, "torque cannot come back before Reboot");
  assert.equal(send(bus, 1, Instruction.Reboot)[0]!.error, 0x80, "the Reboot answer is sent before rebooting");
  assert.equal(send(bus, 1, Instruction.Ping)[0]!.error, 0);
  assert.equal(d.get("Hardware Error Status"), 0);
  assert.equal(writeReg(bus, 1, "Torque Enable", 1)!.error, 0);
});

test("Reboot resets RAM to power-up values, keeps EEPROM and measurements, and may take time", () => {
  const d = new VirtualDevice({ id: 1, rebootMs: 100, initial: { "Operating Mode": 16 } });
  const bus = new VirtualBus([d]);
  let reboots = 0;
  d.onReboot(() => reboots++);
  writeReg(bus, 1, "LED", 1);
  writeReg(bus, 1, "Goal PWM", 50);
  d.setPresent("Present Position", 777);
  send(bus, 1, Instruction.Reboot, undefined, 1000);
  assert.equal(reboots, 1);
  assert.deepEqual(send(bus, 1, Instruction.Ping, undefined, 1050), [], "still rebooting");
  assert.equal(send(bus, 1, Instruction.Ping, undefined, 1100).length, 1);
  assert.deepEqual([d.get("LED"), d.get("Goal PWM"), d.get("Operating Mode"), d.get("Present Position")], [0, 885, 16, 777]);
});

test("Bus Watchdog: silence beyond its period stops the motor, reads 255, refuses goals until cleared with 0", () => {
  const d = new VirtualDevice({ id: 1, initial: { "Operating Mode": 16 } });
  const other = new VirtualDevice({ id: 2 });
  const bus = new VirtualBus([d, other]);
  let trips = 0;
  d.onWatchdogTrip(() => trips++);
  writeReg(bus, 1, "Torque Enable", 1, 0);
  writeReg(bus, 1, "Bus Watchdog", 5, 0); // 5 × 20 ms = 100 ms
  writeReg(bus, 1, "Goal PWM", 200, 10);
  bus.tick(100);
  assert.equal(d.outputActive, true);
  send(bus, 2, Instruction.Ping, undefined, 105); // any packet on the bus ends the silence
  bus.tick(205);
  assert.equal(d.watchdogTripped, false);
  bus.tick(206);
  assert.equal(d.watchdogTripped, true);
  assert.equal(trips, 1);
  assert.equal(d.outputActive, false);
  assert.equal(d.torqueEnabled, true, "the motor stops; Torque Enable itself stays");
  assert.equal(readReg(bus, 1, "Bus Watchdog", 260).value, 255);
  assert.equal(writeReg(bus, 1, "Goal PWM", 100, 270)!.error, E.DataRangeError);
  assert.equal(writeReg(bus, 1, "Bus Watchdog", 3, 280)!.error, E.DataRangeError, "only 0 clears it");
  assert.equal(d.get("Goal PWM"), 200);
  assert.equal(writeReg(bus, 1, "Bus Watchdog", 0, 290)!.error, 0);
  assert.equal(d.watchdogTripped, false);
  assert.equal(writeReg(bus, 1, "Goal PWM", 100, 300)!.error, 0);
  assert.equal(d.outputActive, true);
  // A tripped-and-cleared watchdog stays off (0): silence no longer matters.
  bus.tick(10_000);
  assert.equal(d.watchdogTripped, false);
});

test("the watchdog trips on the first packet after a long silence even without tick()", () => {
  const d = new VirtualDevice({ id: 1 });
  const bus = new VirtualBus([d]);
  writeReg(bus, 1, "Torque Enable", 1, 0);
  writeReg(bus, 1, "Bus Watchdog", 1, 0);
  assert.equal(writeReg(bus, 1, "Goal PWM", 10, 500)!.error, E.DataRangeError);
  // torque off: no watchdog
  const d2 = new VirtualDevice({ id: 1 });
  const bus2 = new VirtualBus([d2]);
  writeReg(bus2, 1, "Bus Watchdog", 1, 0);
  assert.equal(writeReg(bus2, 1, "Goal PWM", 10, 500)!.error, 0);
});

test("Status Return Level 0 answers Ping only, 1 adds reads", () => {
  const bus = new VirtualBus([new VirtualDevice({ id: 1 })]);
  writeReg(bus, 1, "Status Return Level", 1);
  assert.equal(send(bus, 1, Instruction.Read, readParams(65, 1)).length, 1);
  assert.equal(writeReg(bus, 1, "LED", 1), undefined);
  assert.equal(bus.device(1)!.get("LED"), 1, "applied although unanswered");
  writeReg(bus, 1, "Status Return Level", 0);
  assert.equal(send(bus, 1, Instruction.Read, readParams(65, 1)).length, 0);
  assert.equal(send(bus, 1, Instruction.Ping).length, 1);
});

test("onWrite and setPresent couple the device to a simulation", () => {
  const d1 = new VirtualDevice({ id: 1, initial: { "Operating Mode": 16 } });
  const d2 = new VirtualDevice({ id: 2, initial: { "Operating Mode": 16 } });
  const bus = new VirtualBus([d1, d2]);
  const seen: string[] = [];
  d1.onWrite((name, value) => seen.push(`1 ${name}=${value}`));
  const off = d2.onWrite((name, value) => seen.push(`2 ${name}=${value}`));
  const pwm = xm430Register("Goal PWM");
  const data = new Map([
    [1, encodeRegisterValue(pwm, -300)],
    [2, encodeRegisterValue(pwm, 120)],
  ]);
  assert.deepEqual(send(bus, BROADCAST_ID, Instruction.SyncWrite, syncWriteParams(100, 2, data)), []);
  assert.deepEqual(seen, ["1 Goal PWM=-300", "2 Goal PWM=120"]);
  off();
  writeReg(bus, 2, "LED", 1);
  assert.equal(seen.length, 2);
  d1.setPresent("Present Velocity", -42);
  assert.equal(readReg(bus, 1, "Present Velocity").value, -42);
  assert.throws(() => d1.setPresent("Goal PWM", 1), /Goal PWM \(100\) is written by the host/);
  assert.throws(() => d1.setPresent("Hardware Error Status", 32), /raiseHardwareError/);
  assert.throws(() => new VirtualDevice({ initial: { "Goal PMW": 1 } }), /unknown XM430-W350 register "Goal PMW"; did you mean "Goal PWM"/);
});

test("a corrupted packet for this ID gets CRC Error; a corrupted broadcast gets nothing", () => {
  const bus = new VirtualBus([new VirtualDevice({ id: 1 })]);
  const packet = encodeInstructionPacket(1, Instruction.Read, readParams(132, 4));
  packet[8]! ^= 0xff;
  const [answer] = bus.receive(packet, 0).flatMap((w) => new PacketParser().push(w));
  assert.equal((answer as { packet: Packet }).packet.error, E.CrcError);
  const bcast = encodeInstructionPacket(BROADCAST_ID, Instruction.Ping);
  bcast[7]! ^= 0x40;
  assert.deepEqual(bus.receive(bcast, 0), []);
  assert.equal(bus.stats.crcErrors, 2);
});
