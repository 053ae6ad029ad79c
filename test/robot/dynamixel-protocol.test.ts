import test from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../common/rng.js";
import { crc16 } from "../../robot/dynamixel/crc.js";
import { addStuffing, removeStuffing, StuffingError } from "../../robot/dynamixel/stuffing.js";
import { decodeStatusError, encodeInstructionPacket, encodeStatusPacket, Instruction, BROADCAST_ID } from "../../robot/dynamixel/protocol.js";
import { PacketParser, type ParseEvent } from "../../robot/dynamixel/parser.js";
import {
  bulkReadParams,
  bulkWriteParams,
  parseBulkReadParams,
  parseBulkWriteParams,
  parsePingStatus,
  parseSyncReadParams,
  parseSyncWriteParams,
  readParams,
  syncReadParams,
  syncWriteParams,
  writeParams,
} from "../../robot/dynamixel/instruction-params.js";

const bytes = (...b: number[]) => Uint8Array.from(b);
const packets = (events: ParseEvent[]) => events.filter((e) => e.kind === "packet").map((e) => (e as Extract<ParseEvent, { kind: "packet" }>).packet);

// Packet bytes below are copied from the ROBOTIS e-manual, "DYNAMIXEL Protocol 2.0",
// section "Instruction Details" (the XM430-W210 examples).

test("Ping (Instruction Details > Ping > Example 1 and 2) encodes byte for byte", () => {
  assert.deepEqual(encodeInstructionPacket(1, Instruction.Ping), bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x03, 0x00, 0x01, 0x19, 0x4e));
  assert.deepEqual(encodeInstructionPacket(BROADCAST_ID, Instruction.Ping), bytes(0xff, 0xff, 0xfd, 0x00, 0xfe, 0x03, 0x00, 0x01, 0x31, 0x42));
  // Status of ID 1 and ID 2: model 1030 (0x0406), firmware 38 (0x26)
  const params = bytes(0x06, 0x04, 0x26);
  assert.deepEqual(encodeStatusPacket(1, 0, params), bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x07, 0x00, 0x55, 0x00, 0x06, 0x04, 0x26, 0x65, 0x5d));
  assert.deepEqual(encodeStatusPacket(2, 0, params), bytes(0xff, 0xff, 0xfd, 0x00, 0x02, 0x07, 0x00, 0x55, 0x00, 0x06, 0x04, 0x26, 0x6f, 0x6d));
  assert.deepEqual(parsePingStatus(params), { model: 1030, firmware: 38 });
});

test("Read (Instruction Details > Read > Example): Present Position 132, 4 bytes = 166", () => {
  assert.deepEqual(encodeInstructionPacket(1, Instruction.Read, readParams(132, 4)), bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x07, 0x00, 0x02, 0x84, 0x00, 0x04, 0x00, 0x1d, 0x15));
  const status = bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x08, 0x00, 0x55, 0x00, 0xa6, 0x00, 0x00, 0x00, 0x8c, 0xc0);
  assert.deepEqual(encodeStatusPacket(1, 0, bytes(0xa6, 0, 0, 0)), status);
  assert.deepEqual(packets(new PacketParser().push(status)), [{ id: 1, instruction: 0x55, error: 0, params: bytes(0xa6, 0, 0, 0) }]);
});

test("Write (Instruction Details > Write > Example): 512 to Goal Position 116", () => {
  assert.deepEqual(
    encodeInstructionPacket(1, Instruction.Write, writeParams(116, bytes(0x00, 0x02, 0x00, 0x00))),
    bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x09, 0x00, 0x03, 0x74, 0x00, 0x00, 0x02, 0x00, 0x00, 0xca, 0x89),
  );
  assert.deepEqual(encodeStatusPacket(1, 0), bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x04, 0x00, 0x55, 0x00, 0xa1, 0x0c));
});

test("Reboot and Action (Instruction Details > Reboot, Action) encode byte for byte", () => {
  assert.deepEqual(encodeInstructionPacket(1, Instruction.Reboot), bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x03, 0x00, 0x08, 0x2f, 0x4e));
  assert.deepEqual(encodeInstructionPacket(1, Instruction.Action), bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x03, 0x00, 0x05, 0x02, 0xce));
  // Reg Write example: 200 to Goal Velocity 104
  assert.deepEqual(
    encodeInstructionPacket(1, Instruction.RegWrite, writeParams(104, bytes(0xc8, 0, 0, 0))),
    bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x09, 0x00, 0x04, 0x68, 0x00, 0xc8, 0x00, 0x00, 0x00, 0xae, 0x8e),
  );
});

test("Sync Read (Instruction Details > Sync Read > Example): IDs 1 and 2, Present Position", () => {
  const inst = bytes(0xff, 0xff, 0xfd, 0x00, 0xfe, 0x09, 0x00, 0x82, 0x84, 0x00, 0x04, 0x00, 0x01, 0x02, 0xce, 0xfa);
  assert.deepEqual(encodeInstructionPacket(BROADCAST_ID, Instruction.SyncRead, syncReadParams(132, 4, [1, 2])), inst);
  assert.deepEqual(parseSyncReadParams(packets(new PacketParser().push(inst))[0]!.params), { address: 132, length: 4, ids: [1, 2] });
  // ID 2: 2079 = 0x081F
  assert.deepEqual(encodeStatusPacket(2, 0, bytes(0x1f, 0x08, 0, 0)), bytes(0xff, 0xff, 0xfd, 0x00, 0x02, 0x08, 0x00, 0x55, 0x00, 0x1f, 0x08, 0x00, 0x00, 0xba, 0xbe));
});

test("Sync Write (Instruction Details > Sync Write > Example): 150 and 170 to Goal Position", () => {
  const inst = bytes(0xff, 0xff, 0xfd, 0x00, 0xfe, 0x11, 0x00, 0x83, 0x74, 0x00, 0x04, 0x00, 0x01, 0x96, 0x00, 0x00, 0x00, 0x02, 0xaa, 0x00, 0x00, 0x00, 0x82, 0x87);
  const data = new Map([
    [1, bytes(0x96, 0, 0, 0)],
    [2, bytes(0xaa, 0, 0, 0)],
  ]);
  assert.deepEqual(encodeInstructionPacket(BROADCAST_ID, Instruction.SyncWrite, syncWriteParams(116, 4, data)), inst);
  assert.deepEqual(parseSyncWriteParams(packets(new PacketParser().push(inst))[0]!.params), {
    address: 116,
    length: 4,
    entries: [
      { id: 1, data: bytes(0x96, 0, 0, 0) },
      { id: 2, data: bytes(0xaa, 0, 0, 0) },
    ],
  });
});

test("Bulk Read (Instruction Details > Bulk Read > Example): voltage of ID 1, temperature of ID 2", () => {
  const entries = [
    { id: 1, address: 144, length: 2 },
    { id: 2, address: 146, length: 1 },
  ];
  const inst = bytes(0xff, 0xff, 0xfd, 0x00, 0xfe, 0x0d, 0x00, 0x92, 0x01, 0x90, 0x00, 0x02, 0x00, 0x02, 0x92, 0x00, 0x01, 0x00, 0x1a, 0x05);
  assert.deepEqual(encodeInstructionPacket(BROADCAST_ID, Instruction.BulkRead, bulkReadParams(entries)), inst);
  assert.deepEqual(parseBulkReadParams(bulkReadParams(entries)), entries);
  assert.deepEqual(encodeStatusPacket(1, 0, bytes(0x77, 0x00)), bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x06, 0x00, 0x55, 0x00, 0x77, 0x00, 0xc3, 0x69));
  assert.deepEqual(encodeStatusPacket(2, 0, bytes(0x24)), bytes(0xff, 0xff, 0xfd, 0x00, 0x02, 0x05, 0x00, 0x55, 0x00, 0x24, 0x8b, 0xa9));
});

test("Bulk Write (Instruction Details > Bulk Write > Example): Max Voltage Limit of ID 1, Temperature Limit of ID 2", () => {
  const entries = [
    { id: 1, address: 32, data: bytes(0xa0, 0x00) },
    { id: 2, address: 31, data: bytes(0x50) },
  ];
  const inst = bytes(0xff, 0xff, 0xfd, 0x00, 0xfe, 0x10, 0x00, 0x93, 0x01, 0x20, 0x00, 0x02, 0x00, 0xa0, 0x00, 0x02, 0x1f, 0x00, 0x01, 0x00, 0x50, 0xb7, 0x68);
  assert.deepEqual(encodeInstructionPacket(BROADCAST_ID, Instruction.BulkWrite, bulkWriteParams(entries)), inst);
  assert.deepEqual(parseBulkWriteParams(bulkWriteParams(entries)), entries);
});

test("CRC-16 matches the manual's packets and detects single-bit errors", () => {
  const ping = bytes(0xff, 0xff, 0xfd, 0x00, 0x01, 0x03, 0x00, 0x01);
  assert.equal(crc16(ping), 0x4e19);
  for (let bit = 0; bit < ping.length * 8; bit++) {
    const flipped = ping.slice();
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    assert.notEqual(crc16(flipped), 0x4e19, `bit ${bit}`);
  }
});

test("status error byte: alert bit and error numbers by name", () => {
  const names = [1, 2, 3, 4, 5, 6, 7].map((n) => decodeStatusError(n).name);
  assert.deepEqual(names, ["Result Fail", "Instruction Error", "CRC Error", "Data Range Error", "Data Length Error", "Data Limit Error", "Access Error"]);
  assert.deepEqual({ ...decodeStatusError(0x87), meaning: undefined }, { byte: 0x87, alert: true, number: 7, name: "Access Error", meaning: undefined });
  const alertOnly = decodeStatusError(0x80);
  assert.equal(alertOnly.alert, true);
  assert.equal(alertOnly.number, 0);
});

test("byte stuffing: FF FF FD gains an FD, and removing it restores the original", () => {
  const cases: [number[], number[]][] = [
    [[0xff, 0xff, 0xfd], [0xff, 0xff, 0xfd, 0xfd]],
    [[0xff, 0xff, 0xfd, 0xfd], [0xff, 0xff, 0xfd, 0xfd, 0xfd]],
    [[0xff, 0xff, 0xff, 0xfd, 0x00], [0xff, 0xff, 0xff, 0xfd, 0xfd, 0x00]],
    [[0xff, 0xff, 0xfd, 0xff, 0xff, 0xfd], [0xff, 0xff, 0xfd, 0xfd, 0xff, 0xff, 0xfd, 0xfd]],
    [[0xff, 0xfd, 0xff, 0xfd], [0xff, 0xfd, 0xff, 0xfd]],
  ];
  for (const [plain, stuffed] of cases) {
    assert.deepEqual(addStuffing(Uint8Array.from(plain)), Uint8Array.from(stuffed), plain.join(","));
    assert.deepEqual(removeStuffing(Uint8Array.from(stuffed)), Uint8Array.from(plain), stuffed.join(","));
  }
  assert.throws(() => removeStuffing(bytes(0x03, 0xff, 0xff, 0xfd, 0x00)), StuffingError);
});

test("a payload containing FF FF FD is stuffed on send (length and CRC over stuffed bytes) and unstuffed on receive", () => {
  const data = bytes(0xff, 0xff, 0xfd, 0x00);
  const packet = encodeInstructionPacket(1, Instruction.Write, writeParams(116, data));
  // 03 74 00 FF FF FD FD 00: one stuffed byte, so LEN = 1 + 2 + 5 + 2 = 10
  assert.deepEqual(packet.subarray(4, 15), bytes(0x01, 0x0a, 0x00, 0x03, 0x74, 0x00, 0xff, 0xff, 0xfd, 0xfd, 0x00));
  const crc = crc16(packet, 0, packet.length - 2);
  assert.deepEqual(packet.subarray(-2), bytes(crc & 0xff, crc >> 8));
  const [decoded] = packets(new PacketParser().push(packet));
  assert.deepEqual(decoded, { id: 1, instruction: Instruction.Write, params: writeParams(116, data) });
});

test("random payloads rich in FF/FD survive encode -> parse, whole and byte by byte", () => {
  const rng = new Rng(7);
  const alphabet = [0xff, 0xfd, 0x00, 0x55];
  for (let trial = 0; trial < 200; trial++) {
    const params = Uint8Array.from({ length: rng.int(40) }, () => (rng.next() < 0.8 ? alphabet[rng.int(4)]! : rng.int(256)));
    const status = trial % 2 === 0;
    const packet = status ? encodeStatusPacket(3, 0x80, params) : encodeInstructionPacket(3, Instruction.Write, params);
    const whole = packets(new PacketParser().push(packet));
    const expected = status ? { id: 3, instruction: 0x55, error: 0x80, params } : { id: 3, instruction: Instruction.Write, params };
    assert.deepEqual(whole, [expected]);
    const parser = new PacketParser();
    const events = [...packet].flatMap((b) => parser.push(bytes(b)));
    assert.deepEqual(packets(events), [expected]);
  }
});

test("parser resyncs after garbage, including bytes that look like a header", () => {
  const a = encodeStatusPacket(1, 0, bytes(1, 2));
  const b = encodeStatusPacket(2, 0, bytes(3));
  // Noise, a fake header with an impossible length, a fake header with an invalid ID, then a real packet.
  const noise = bytes(0x00, 0x12, 0xff, 0xff, 0xfd, 0x00, 0x01, 0x01, 0x00, 0xff, 0xff, 0xfd, 0x00, 0xfd, 0x05, 0x00, 0x33);
  const stream = new Uint8Array([...noise, ...a, 0x42, 0xff, ...b]);
  const events = new PacketParser().push(stream);
  assert.deepEqual(packets(events).map((p) => p.id), [1, 2]);
  const garbage = events.filter((e) => e.kind === "garbage").reduce((n, e) => n + (e as { bytes: Uint8Array }).bytes.length, 0);
  assert.equal(garbage, noise.length + 2);
  // A header split across chunks is kept until the rest arrives.
  const parser = new PacketParser();
  assert.deepEqual(packets(parser.push(new Uint8Array([0x99, ...a.subarray(0, 3)]))), []);
  assert.equal(parser.buffered, 3);
  assert.deepEqual(packets(parser.push(a.subarray(3))).map((p) => p.id), [1]);
});

test("parser reports a CRC mismatch and still finds the packet after it", () => {
  const bad = encodeStatusPacket(1, 0, bytes(0xa6, 0, 0, 0));
  bad[9]! ^= 0x01;
  const good = encodeStatusPacket(2, 0, bytes(7));
  const events = new PacketParser().push(new Uint8Array([...bad, ...good]));
  const crc = events.find((e) => e.kind === "crc-error") as Extract<ParseEvent, { kind: "crc-error" }>;
  assert.ok(crc, "crc-error event");
  assert.equal(crc.id, 1);
  assert.notEqual(crc.expected, crc.received);
  assert.deepEqual(packets(events).map((p) => p.id), [2]);
  // A corrupted length that swallows the next packet: that packet is still found.
  const longLen = encodeStatusPacket(1, 0, bytes(1, 2, 3));
  longLen[5] = 0x20;
  const events2 = new PacketParser().push(new Uint8Array([...longLen, ...good, ...new Uint8Array(40)]));
  assert.ok(events2.some((e) => e.kind === "crc-error"));
  assert.deepEqual(packets(events2).map((p) => p.id), [2]);
});

test("parameter builders refuse bad input with the field named", () => {
  assert.throws(() => readParams(70000, 1), /address must be an integer 0..65535/);
  assert.throws(() => syncReadParams(132, 4, [1, 1]), /ID 1 is listed twice/);
  assert.throws(() => syncWriteParams(116, 4, new Map([[1, bytes(1, 2)]])), /data for ID 1 has 2 bytes, expected 4/);
  assert.throws(() => encodeInstructionPacket(253, Instruction.Ping), /ID must be an integer 0..252 or 254/);
  assert.throws(() => bulkReadParams([{ id: 300, address: 1, length: 1 }]), /0..252, got 300/);
});
