import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { closeSync, constants as fsConstants, openSync, readSync } from "node:fs";
import { createPtyPair, SocatMissingError, type PtyPair } from "../../robot/serial/pty-pair.js";
import { openSerialTransport } from "../../robot/serial/serial-transport.js";
import { serveVirtualBus, type VirtualBusServer } from "../../robot/dynamixel/serve-virtual-bus.js";
import { VirtualBus } from "../../robot/dynamixel/virtual-bus.js";
import { VirtualDevice } from "../../robot/dynamixel/virtual-device.js";
import { DynamixelBus } from "../../robot/dynamixel/bus.js";
import { DxlPortLostError } from "../../robot/dynamixel/errors.js";
import { main } from "../../launch/cli.js";

// End to end over a real serial stack: socat makes a pty pair, the virtual bus
// is served on one end, and the host side (the CLI, or DynamixelBus over
// SerialTransport) opens the other as it would open /dev/ttyUSB0.

async function run(argv: string[], signal = new AbortController().signal): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t), interactive: false, signal });
  return { code, out, err };
}

let pair: PtyPair;
let server: VirtualBusServer;
const arm = new VirtualDevice({ id: 1, initial: { "Operating Mode": 16 } });
const pendulum = new VirtualDevice({ id: 2 });

before(async () => {
  pair = await createPtyPair();
  server = await serveVirtualBus(pair.devicePath, new VirtualBus([arm, pendulum]));
});

after(async () => {
  await server.close();
  await pair.close();
});

test("s2r dxl scan lists the devices (JSON and table)", async () => {
  // A generous per-ID timeout over a few IDs: the suite runs beside CPU-heavy tests, and a loaded
  // machine can take tens of milliseconds to pass a byte through a pty.
  const json = await run(["dxl", "scan", "--port", pair.hostPath, "--ids", "0-8", "--timeout", "250", "--json"]);
  assert.equal(json.err, "");
  assert.equal(json.code, 0);
  assert.deepEqual(JSON.parse(json.out), [
    { id: 1, model: 1020, firmware: 46 },
    { id: 2, model: 1020, firmware: 46 },
  ]);
  const table = await run(["dxl", "scan", "--port", pair.hostPath, "--ids", "0-3", "--timeout", "250"]);
  assert.equal(table.code, 0);
  assert.equal(table.out, ["  ID  model              firmware", "   1  1020 (XM430-W350)  46", "   2  1020 (XM430-W350)  46", ""].join("\n"));
  const none = await run(["dxl", "scan", "--port", pair.hostPath, "--ids", "7-9", "--timeout", "5"]);
  assert.equal(none.code, 1);
  assert.match(none.err, /no device answered on .* at 1000000 baud \(IDs 7-9\)/);
});

test("Ctrl-C stops a scan: port closed, exit code 130", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("SIGINT")), 100);
  const r = await run(["dxl", "scan", "--port", pair.hostPath, "--ids", "10-252", "--timeout", "50"], controller.signal);
  assert.equal(r.code, 130);
  assert.match(r.err, /s2r dxl scan: interrupted/);
});

test("s2r dxl read prints the value with its unit", async () => {
  pendulum.setPresent("Present Position", 1024);
  const r = await run(["dxl", "read", "--port", pair.hostPath, "--id", "2", "present_position"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "ID 2 Present Position (132) = 1024 (90 °)\n");
  const j = await run(["dxl", "read", "--port", pair.hostPath, "--id", "1", "OperatingMode", "--json"]);
  assert.deepEqual(JSON.parse(j.out), { id: 1, register: "Operating Mode", address: 11, raw: 16, value: null, unit: null, alert: false });
});

test("s2r dxl write sets a register by name", async () => {
  const w = await run(["dxl", "write", "--port", pair.hostPath, "--id", "1", "goal_pwm", "-200"]);
  assert.equal(w.code, 0, w.err);
  assert.equal(w.out, "ID 1 Goal PWM (100) <- -200 (-22.5989 %)\n");
  assert.equal(arm.get("Goal PWM"), -200);
});

test("s2r dxl errors: EEPROM lock, unknown register, absent ID, missing port", async () => {
  assert.equal((await run(["dxl", "write", "--port", pair.hostPath, "--id", "1", "torque_enable", "1"])).code, 0);
  const locked = await run(["dxl", "write", "--port", pair.hostPath, "--id", "1", "operating_mode", "3"]);
  assert.equal(locked.code, 1);
  assert.match(locked.err, /device reported Access Error/);
  assert.match(locked.err, /Operating Mode is in EEPROM, writable only with torque off: s2r dxl write --port .* --id 1 torque_enable 0/);
  assert.equal((await run(["dxl", "write", "--port", pair.hostPath, "--id", "1", "torque_enable", "0"])).code, 0);

  const unknown = await run(["dxl", "read", "--port", pair.hostPath, "--id", "1", "present_postion"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown XM430-W350 register "present_postion"; did you mean "Present Position"/);

  const absent = await run(["dxl", "read", "--port", pair.hostPath, "--id", "9", "--timeout", "5", "led"]);
  assert.equal(absent.code, 1);
  assert.match(absent.err, /Read to ID 9: no status packet after/);

  const noPort = await run(["dxl", "scan", "--port", "/dev/s2r-no-such-port"]);
  assert.equal(noPort.code, 1);
  assert.match(noPort.err, /cannot open serial port \/dev\/s2r-no-such-port: .*No such file/);

  const noValue = await run(["dxl", "write", "--port", pair.hostPath, "--id", "1", "led"]);
  assert.equal(noValue.code, 2);
  assert.match(noValue.err, /which value\?/);
});

test("DynamixelBus over SerialTransport: sync read through the pty", async () => {
  arm.setPresent("Present Position", -3000);
  pendulum.setPresent("Present Position", 2047);
  const bus = new DynamixelBus(await openSerialTransport(pair.hostPath));
  try {
    const r = await bus.syncRead([1, 2], 132, 4);
    assert.deepEqual([...r.values()].map((x) => new DataView(x.data.buffer, x.data.byteOffset).getInt32(0, true)), [-3000, 2047]);
  } finally {
    await bus.close();
  }
});

test("a port removed mid-run (socat killed) gives DxlPortLostError promptly, not a hang", async () => {
  const own = await createPtyPair();
  // The device answers after 300 ms, so the second ping is still waiting when the port disappears.
  const slow = await serveVirtualBus(own.devicePath, new VirtualBus([new VirtualDevice({ id: 1 })], { responseDelayMs: 300 }));
  const bus = new DynamixelBus(await openSerialTransport(own.hostPath));
  try {
    assert.equal((await bus.ping(1, { timeoutMs: 5000 })).id, 1);
    // A timeout this long would show up as a hang; the error must come from the loss itself.
    const pending = bus.ping(1, { timeoutMs: 60_000, retries: 0 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await own.close();
    const e = await pending;
    assert.ok(e instanceof DxlPortLostError, String(e));
    assert.equal(e.path, own.hostPath);
    await assert.rejects(bus.read(1, 132, 4, { timeoutMs: 60_000 }), DxlPortLostError);
    await slow.ended; // the device side notices too
  } finally {
    await bus.close();
    await slow.close();
  }
});

test("a write larger than the kernel's tty buffer waits for the reader and arrives whole, in order", async () => {
  const own = await createPtyPair();
  const host = await openSerialTransport(own.hostPath);
  // The device end is opened but not read yet: the ptys and socat fill up, and the host's fd refuses bytes (EAGAIN).
  const deviceFd = openSync(own.devicePath, fsConstants.O_RDWR | fsConstants.O_NOCTTY | fsConstants.O_NONBLOCK);
  try {
    const big = Uint8Array.from({ length: 256 * 1024 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
    let written = false;
    const writing = host.write(big).then(() => (written = true));
    const small = host.write(Uint8Array.of(1, 2, 3)); // queued behind the big one
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(written, false, "a 256 KB write into an unread pty completed at once: the backlog path was not exercised");
    const all = new Uint8Array(big.length + 3);
    let n = 0;
    const deadline = Date.now() + 10_000;
    while (n < all.length && Date.now() < deadline) {
      try {
        n += readSync(deviceFd, all, n, all.length - n, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        await new Promise((r) => setImmediate(r));
      }
    }
    await writing;
    await small;
    assert.equal(n, all.length);
    assert.deepEqual(all.subarray(0, big.length), big);
    assert.deepEqual([...all.subarray(big.length)], [1, 2, 3]);
  } finally {
    closeSync(deviceFd);
    await host.close();
    await own.close();
  }
});

test("a write to a closed port is refused with DxlPortLostError", async () => {
  const own = await createPtyPair();
  const host = await openSerialTransport(own.hostPath);
  await host.close();
  await assert.rejects(host.write(Uint8Array.of(1)), DxlPortLostError);
  await own.close();
});

test("a missing socat is a clear error", async () => {
  await assert.rejects(createPtyPair({ socat: "/nonexistent/socat" }), (e: unknown) => e instanceof SocatMissingError && /apt-get install socat/.test(e.message));
});
