/**
 * Hardware Error Status (X series address 70; same bits as Shutdown, 63),
 * per the XM430 e-manual. Any of these disables torque and sets the alert bit
 * (0x80) in every status packet until the device is rebooted.
 */

export const HARDWARE_ERROR_BITS = [
  { bit: 0, name: "Input Voltage Error", meaning: "input voltage outside the configured voltage limits" },
  { bit: 2, name: "Overheating Error", meaning: "internal temperature above the temperature limit" },
  { bit: 3, name: "Motor Encoder Error", meaning: "malfunction of the motor encoder" },
  { bit: 4, name: "Electrical Shock Error", meaning: "electrical shock on the circuit or insufficient power" },
  { bit: 5, name: "Overload Error", meaning: "persistent load above the maximum output" },
] as const;

export type HardwareErrorName = (typeof HARDWARE_ERROR_BITS)[number]["name"];

export interface HardwareErrorReport {
  raw: number;
  /** e.g. ["Overload Error"]; bits the manual leaves unused appear as "unused bit 1". */
  names: string[];
}

export function decodeHardwareError(raw: number): HardwareErrorReport {
  if (!Number.isInteger(raw) || raw < 0 || raw > 0xff) throw new RangeError(`Hardware Error Status is one byte, got ${raw}`);
  const names: string[] = [];
  for (let bit = 0; bit < 8; bit++) {
    if (!(raw & (1 << bit))) continue;
    names.push(HARDWARE_ERROR_BITS.find((b) => b.bit === bit)?.name ?? `unused bit ${bit}`);
  }
  return { raw, names };
}

const normalize = (s: string) => s.toLowerCase().replace(/[^a-z]/g, "").replace(/error$/, "");

/** The bit mask of a hardware error by name: "Overload Error", "overload", "input_voltage". */
export function hardwareErrorMask(name: string): number {
  const key = normalize(name);
  const found = HARDWARE_ERROR_BITS.find((b) => normalize(b.name) === key);
  if (!found) throw new RangeError(`unknown hardware error ${JSON.stringify(name)}; known: ${HARDWARE_ERROR_BITS.map((b) => b.name).join(", ")}`);
  return 1 << found.bit;
}
