/**
 * Typed failures of a Dynamixel exchange. Callers branch on the class
 * (retry a timeout, stop on a lost port, read Hardware Error Status on an
 * alert); messages are written for the person at the terminal.
 */

import { instructionName, type StatusErrorInfo } from "./protocol.js";
import type { HardwareErrorReport } from "./hardware-error.js";

export class DxlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

function who(id: number): string {
  return id === 0xfe ? "broadcast" : `ID ${id}`;
}

/** No (complete) answer within the timeout, after every allowed attempt. */
export class DxlTimeoutError extends DxlError {
  constructor(
    /** The first device that did not answer. */
    readonly id: number,
    readonly instruction: number,
    /** Time spent waiting in the last attempt. */
    readonly waitedMs: number,
    readonly attempts: number,
    /** Every device that did not answer (several for Sync/Bulk Read). */
    readonly missingIds: readonly number[] = [id],
  ) {
    const others = missingIds.length > 1 ? ` (no answer from IDs ${missingIds.join(", ")})` : "";
    super(
      `${instructionName(instruction)} to ${who(id)}: no status packet after ${waitedMs.toFixed(1)} ms` +
        `${attempts > 1 ? ` (attempt ${attempts} of ${attempts})` : ""}${others}; check the ID, baud rate, wiring and power`,
    );
  }
}

/** A status packet arrived but its CRC did not match (noise, or a baud-rate mismatch). */
export class DxlCrcError extends DxlError {
  constructor(
    readonly id: number,
    readonly instruction: number,
    readonly expected: number,
    readonly received: number,
    readonly attempts: number,
  ) {
    super(
      `${instructionName(instruction)} to ${who(id)}: status packet failed its CRC check (computed 0x${expected.toString(16).padStart(4, "0")}, ` +
        `received 0x${received.toString(16).padStart(4, "0")}) after ${attempts} attempt${attempts > 1 ? "s" : ""}; check wiring, termination and baud rate`,
    );
  }
}

/** The device answered with an error number in its status packet. */
export class DxlStatusError extends DxlError {
  readonly errorNumber: number;
  /** "Result Fail", "Instruction Error", "CRC Error", "Data Range Error", "Data Length Error", "Data Limit Error", "Access Error". */
  readonly errorName: string;
  /** Bit 7 of the error byte: the device also reports a hardware problem. */
  readonly alert: boolean;

  constructor(
    readonly id: number,
    readonly instruction: number,
    readonly status: StatusErrorInfo,
    /** Decoded Hardware Error Status when the alert bit was set and it could be read. */
    readonly hardwareError?: HardwareErrorReport,
    /** Extra context, e.g. the register written. */
    detail?: string,
  ) {
    const alertText = !status.alert
      ? ""
      : hardwareError
        ? `; alert bit set, Hardware Error Status = ${hardwareError.names.join(", ") || "none"} (reboot the device to clear it)`
        : "; alert bit set: read Hardware Error Status (address 70) for the cause";
    super(
      `${instructionName(instruction)} to ${who(id)}${detail ? ` (${detail})` : ""}: device reported ${status.name || "no error"}` +
        `${status.number ? ` (${status.meaning})` : ""}${alertText}`,
    );
    this.errorNumber = status.number;
    this.errorName = status.name;
    this.alert = status.alert;
  }
}

/** The serial port disappeared (adapter unplugged, pty closed), or this program closed the bus. */
export class DxlPortLostError extends DxlError {
  constructor(
    readonly path: string,
    readonly reason?: string,
    /** True when the port was closed here (bus.close(), Ctrl-C) rather than lost. */
    readonly closedHere = false,
  ) {
    super(closedHere ? `serial port ${path} was closed${reason ? ` (${reason})` : ""}` : `serial port ${path} is gone${reason ? ` (${reason})` : ""}; reconnect the adapter and open it again`);
  }
}

/** An answer that does not fit the request (wrong parameter count, malformed packet). */
export class DxlProtocolError extends DxlError {}
