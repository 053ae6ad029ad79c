import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../common/schema.js";
import { calibrateMotion, readCalibrateMotion } from "../../calibration/calibrate/motion-config.js";
import { main } from "../../launch/cli.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-motion-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, doc: unknown): string {
  const f = join(dir, `${name}.json`);
  writeFileSync(f, JSON.stringify(doc));
  return f;
}

test("a motion file with units loads to the same figures as one in plain numbers", () => {
  const plain = readCalibrateMotion(file("plain", { seekSpeed: 0.2, creepZone: 0.25, acceleration: 0.5, maxVolts: 2.5, slewVoltsPerSec: 3, stallSeconds: 0.25, kp: 1.5 }));
  const units = readCalibrateMotion(file("units", { seekSpeed: "200 mrad/s", creepZone: "250 mrad", acceleration: "0.5 rad/s^2", maxVolts: "2500 mV", slewVoltsPerSec: "3 V/s", stallSeconds: "250 ms", kp: "1.5 V s/rad" }));
  assert.deepEqual(units, plain);
  assert.deepEqual(readCalibrateMotion(file("empty", {})), calibrateMotion());
  const deg = calibrateMotion({ backOff: "10 deg", cruiseSpeed: "20 deg/s" });
  assert.ok(Math.abs(deg.backOff - (10 * Math.PI) / 180) < 1e-14 && Math.abs(deg.cruiseSpeed - (20 * Math.PI) / 180) < 1e-14);
});

test("a wrong unit, an unparseable figure or an unsafe combination names the file and the field", () => {
  const cases: [string, unknown, RegExp][] = [
    ["speed-volts", { seekSpeed: "0.2 V" }, /seekSpeed: expected an angular velocity \(rad\/s\), got "0\.2 V"/],
    ["speed-hz", { seekSpeed: "0.05 Hz" }, /seekSpeed: expected an angular velocity \(rad\/s\), got "0\.05 Hz"/],
    ["garbled", { maxVolts: "3 volts-ish" }, /maxVolts: cannot read "3 volts-ish"/],
    ["too-fast", { cruiseSpeed: "30 deg/s" }, /cruiseSpeed: 0\.523598775598299 rad\/s must be below cutSpeed 0\.42 rad\/s/],
    ["stall", { stallVolts: "3 V" }, /stallVolts: 3 V must be below maxVolts 3 V/],
    ["typo", { seekSped: 0.2 }, /seekSped: unknown field/],
  ];
  for (const [name, doc, pattern] of cases) {
    const f = file(name, doc);
    assert.throws(() => readCalibrateMotion(f), (e: unknown) => e instanceof ConfigError && e.message.startsWith(f) && pattern.test(e.message), name);
  }
});

test("s2r calibrate --motion refuses a bad file before the bus is opened", async () => {
  let err = "";
  const log = join(dir, "never.mcap");
  const code = await main(["calibrate", "furuta", "--port", join(dir, "no-such-tty"), "--log", log, "--motion", file("cli", { seekSpeed: "0.2 m/s" })], {
    out: () => {},
    err: (t) => (err += t),
    interactive: false,
    signal: new AbortController().signal,
  });
  assert.equal(code, 2);
  assert.match(err, /cli\.json: seekSpeed: expected an angular velocity \(rad\/s\), got "0\.2 m\/s"/);
  assert.equal(existsSync(log), false);
});
