/**
 * What about a Dynamixel bus makes it slow or flaky, asked of the devices
 * themselves: each one's Return Delay Time (the device waits this long before
 * every answer; 250 = 500 us out of the box), Status Return Level (s2r's writes
 * wait for a status packet) and baud rate, how much of a control period the
 * bytes of one cycle take on the wire, and the round-trip distribution of the
 * Sync Read the control loop sends.
 */

import { DynamixelBus } from "../dynamixel/bus.js";
import { DxlError, DxlPortLostError } from "../dynamixel/errors.js";
import { xm430Register } from "../dynamixel/xm430.js";
import type { DoctorCheck } from "./host-checks.js";

export interface DeviceFinding {
  id: number;
  answered: boolean;
  model?: number;
  firmware?: number;
  returnDelayMicros?: number;
  statusReturnLevel?: number;
  baudRegister?: string;
  error?: string;
}

export interface BusCheckOptions {
  /** The port, for the commands in the advice. */
  port: string;
  baud: number;
  ids: readonly number[];
  /** Per-request wait, ms. */
  timeoutMs: number;
  /** The Return Delay Time the rig file sets when s2r opens the bus, µs (undefined: left as found). */
  rigReturnDelayMicros?: number;
}

/** Ping each ID, then read its Return Delay Time, Status Return Level and Baud Rate registers. */
export async function checkDevices(bus: DynamixelBus, o: BusCheckOptions): Promise<{ findings: DeviceFinding[]; checks: DoctorCheck[] }> {
  const findings: DeviceFinding[] = [];
  const checks: DoctorCheck[] = [];
  const write = (id: number, reg: string, v: number) => `s2r dxl write --port ${o.port} --id ${id} ${reg} ${v}`;
  for (const id of o.ids) {
    const f: DeviceFinding = { id, answered: false };
    findings.push(f);
    try {
      const p = await bus.ping(id, { timeoutMs: o.timeoutMs, retries: 1 });
      f.answered = true;
      f.model = p.model;
      f.firmware = p.firmware;
      f.returnDelayMicros = (await bus.readRegister(id, "Return Delay Time", { timeoutMs: o.timeoutMs })).raw * 2;
      f.statusReturnLevel = (await bus.readRegister(id, "Status Return Level", { timeoutMs: o.timeoutMs })).raw;
      const baudReg = await bus.readRegister(id, "Baud Rate", { timeoutMs: o.timeoutMs });
      f.baudRegister = xm430Register("Baud Rate").labels?.[baudReg.raw] ?? `code ${baudReg.raw}`;
    } catch (e) {
      if (e instanceof DxlPortLostError) throw e;
      if (!(e instanceof DxlError)) throw e;
      f.error = e.message;
    }
    if (!f.answered) {
      checks.push({ name: `device ${id}`, status: "fail", summary: `ID ${id}: no answer at ${o.baud} baud (${f.error ?? "no status packet"})`, advice: `check power, wiring, the ID and the baud rate: s2r dxl scan --port ${o.port} --baud ${o.baud}` });
      continue;
    }
    const what = `ID ${id} (model ${f.model}, firmware ${f.firmware})`;
    if (f.error) {
      checks.push({ name: `device ${id}`, status: "warn", summary: `${what}: answers pings but not register reads: ${f.error}` });
      continue;
    }
    checks.push({ name: `device ${id}`, status: "ok", summary: `${what} answers at ${o.baud} baud (its Baud Rate register: ${f.baudRegister})`, data: { ...f } });
    const rdt = f.returnDelayMicros!;
    if (rdt === 0) checks.push({ name: `return_delay ${id}`, status: "ok", summary: `ID ${id}: Return Delay Time 0 us` });
    else {
      const fixedByRig = o.rigReturnDelayMicros !== undefined && o.rigReturnDelayMicros === 0;
      checks.push({
        name: `return_delay ${id}`,
        status: fixedByRig ? "info" : "warn",
        summary: `ID ${id}: Return Delay Time ${rdt} us: every answer waits that long${fixedByRig ? " (the rig file sets it to 0 when s2r opens the bus)" : ""}`,
        advice: `set 0 (an EEPROM register: torque off first): ${write(id, "torque_enable", 0)} && ${write(id, "return_delay_time", 0)}`,
      });
    }
    const srl = f.statusReturnLevel!;
    if (srl === 2) checks.push({ name: `status_return ${id}`, status: "ok", summary: `ID ${id}: Status Return Level 2 (answers every instruction)` });
    else {
      checks.push({
        name: `status_return ${id}`,
        status: "warn",
        summary: `ID ${id}: Status Return Level ${srl} (${srl === 0 ? "ping only" : "ping and read only"}): s2r's writes wait for a status packet and would time out`,
        advice: `set 2: ${write(id, "status_return_level", 2)}`,
      });
    }
  }
  return { findings, checks };
}

/** Bytes of one control cycle: a Sync Read of `length` bytes from n IDs, its n status packets, and a Sync Write of `writeBytes` to m motors. */
export function cycleWireBytes(n: number, length: number, m: number, writeBytes: number): number {
  // Protocol 2.0: header 4 + ID + length 2 + instruction + CRC 2 = 10 around the parameters.
  const syncRead = 10 + 4 + n; // address, length, IDs
  const status = n * (11 + length); // + error byte and the data
  const syncWrite = 10 + 4 + m * (1 + writeBytes);
  return syncRead + status + syncWrite;
}

/** How much of the control period a cycle's bytes take at `baud` (10 bits a byte), with each device's return delay. */
export function checkWireTime(baud: number, bytes: number, periodSec: number, returnDelaysMicros: number[]): DoctorCheck {
  const wireMicros = (bytes * 10 * 1e6) / baud;
  const delayMicros = returnDelaysMicros.reduce((a, b) => a + b, 0);
  const share = (wireMicros + delayMicros) / (periodSec * 1e6);
  const data = { baud, bytes, wireMicros: Math.round(wireMicros), returnDelayMicros: delayMicros, periodMicros: Math.round(periodSec * 1e6), share: Number(share.toFixed(3)) };
  const summary = `${bytes} bytes per cycle take ${wireMicros.toFixed(0)} us on the wire at ${baud} baud${delayMicros ? ` plus ${delayMicros} us of return delays` : ""}: ${(share * 100).toFixed(0)} % of the rig's fastest period (${(periodSec * 1000).toFixed(1)} ms)`;
  if (share <= 0.2) return { name: "baud", status: "ok", summary, data };
  return { name: "baud", status: "warn", summary, advice: `raise the baud rate (XM430: up to 4.5 Mbaud; write baud_rate on every device, then use --baud / the rig file's bus.baudRate) or set the return delays to 0`, data };
}

export interface RoundTrip {
  samples: number;
  timeouts: number;
  p50Micros: number;
  p99Micros: number;
  maxMicros: number;
}

/** Times `samples` Sync Reads of [start, start + length) from `ids`, one every `gapMs`, as the control loop sends them. */
export async function measureSyncRead(bus: DynamixelBus, ids: readonly number[], start: number, length: number, samples: number, timeoutMs: number, gapMs = 5): Promise<RoundTrip> {
  const times: number[] = [];
  let timeouts = 0;
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    try {
      await bus.syncRead(ids, start, length, { timeoutMs, retries: 0 });
      times.push(Number(process.hrtime.bigint() - t0) / 1000);
    } catch (e) {
      if (e instanceof DxlPortLostError || !(e instanceof DxlError)) throw e;
      timeouts++;
    }
    await new Promise((r) => setTimeout(r, gapMs));
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => (times.length ? Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]!) : NaN);
  return { samples, timeouts, p50Micros: at(0.5), p99Micros: at(0.99), maxMicros: times.length ? Math.round(times[times.length - 1]!) : NaN };
}

export function checkRoundTrip(rt: RoundTrip, periodSec: number): DoctorCheck {
  const periodMicros = periodSec * 1e6;
  const summary = `Sync Read round trip over ${rt.samples}: p50 ${rt.p50Micros} us, p99 ${rt.p99Micros} us, max ${rt.maxMicros} us${rt.timeouts ? `, ${rt.timeouts} unanswered` : ""} (period ${(periodMicros / 1000).toFixed(1)} ms)`;
  const data = { ...rt, periodMicros };
  if (rt.timeouts === 0 && rt.p99Micros <= 0.3 * periodMicros && rt.maxMicros <= periodMicros) return { name: "round_trip", status: "ok", summary, data };
  return {
    name: "round_trip",
    status: rt.timeouts > rt.samples / 10 ? "fail" : "warn",
    summary,
    advice: "a slow tail comes from the adapter (latency timer), the return delays, or the serial path's kernel threads waiting for a CPU: see the other checks",
    data,
  };
}
