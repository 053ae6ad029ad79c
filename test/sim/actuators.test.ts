import test from "node:test";
import assert from "node:assert/strict";
import { dcMotorTorque, effectiveVoltage, servoTorque, directTorque } from "../../sim/actuators/actuator.js";
import { DelayLine } from "../../sim/actuators/delay-line.js";
import { encoderReading } from "../../sim/sensors/encoder.js";
import { Rng } from "../../common/rng.js";

const motor = { km: 0.042, Rm: 8.4, voltageLimit: 12, deadZone: 0, latency: 0, gain: 1 };

test("DC motor follows tau = km (V - km qdot) / Rm", () => {
  for (const [v, qd] of [[0, 0], [6, 0], [-3, 10], [2, -5]] as const) {
    assert.ok(Math.abs(dcMotorTorque(v, qd, motor) - (0.042 * (v - 0.042 * qd)) / 8.4) < 1e-15);
  }
  // Stall torque at 6 V and the no-load speed where back-EMF cancels the voltage.
  assert.ok(Math.abs(dcMotorTorque(6, 0, motor) - 0.03) < 1e-12);
  assert.ok(Math.abs(dcMotorTorque(6, 6 / 0.042, motor)) < 1e-12);
});

test("voltage limit, dead zone and supply gain", () => {
  assert.equal(effectiveVoltage(20, motor), 12);
  assert.equal(effectiveVoltage(-20, motor), -12);
  const dz = { ...motor, deadZone: 0.3 };
  assert.equal(effectiveVoltage(0.2, dz), 0);
  assert.equal(effectiveVoltage(-0.3, dz), 0);
  assert.ok(Math.abs(effectiveVoltage(1.3, dz) - 1) < 1e-12);
  assert.ok(Math.abs(effectiveVoltage(-1.3, dz) + 1) < 1e-12);
  assert.ok(Math.abs(effectiveVoltage(5, { ...motor, gain: 0.8 }) - 4) < 1e-12);
  // A braking motor at 0 V: back-EMF opposes motion.
  assert.ok(dcMotorTorque(0, 3, motor) < 0);
});

test("servo PD with effort limit, direct torque", () => {
  const p = { kp: 2, kd: 0.1, effortLimit: 0.5, latency: 0 };
  assert.ok(Math.abs(servoTorque(0.1, 0, 0, p) - 0.2) < 1e-15);
  assert.ok(Math.abs(servoTorque(0, 0, 1, p) + 0.1) < 1e-15);
  assert.equal(servoTorque(10, 0, 0, p), 0.5);
  assert.equal(directTorque(-3, { effortLimit: 1, latency: 0 }), -1);
});

test("delay line applies a command exactly latency seconds after it is issued", () => {
  const d = new DelayLine(0);
  d.push(0, 1);
  d.push(0.01, 2);
  d.push(0.02, 3);
  assert.equal(d.valueAt(0.004, 0.005), 0); // before the first command arrives
  assert.equal(d.valueAt(0.005, 0.005), 1);
  assert.equal(d.valueAt(0.014, 0.005), 1);
  assert.equal(d.valueAt(0.015, 0.005), 2);
  assert.equal(d.valueAt(0.03, 0), 3);
  assert.equal(d.valueAt(0.031, 0.005), 3);
});

test("encoder quantizes to counts, adds offset and noise", () => {
  const rng = new Rng(1);
  const count = (2 * Math.PI) / 4096;
  const r = encoderReading(0.1234, { countsPerRev: 4096, offset: 0, noise: 0 }, rng);
  assert.ok(Math.abs(r / count - Math.round(r / count)) < 1e-9);
  assert.ok(Math.abs(r - 0.1234) <= count / 2 + 1e-12);
  const off = encoderReading(0, { countsPerRev: 4096, offset: 10 * count, noise: 0 }, rng);
  assert.ok(Math.abs(off - 10 * count) < 1e-12);
  let s2 = 0;
  for (let i = 0; i < 5000; i++) s2 += encoderReading(0, { countsPerRev: 0, offset: 0, noise: 0.01 }, rng) ** 2;
  assert.ok(Math.abs(Math.sqrt(s2 / 5000) - 0.01) < 0.001);
});
