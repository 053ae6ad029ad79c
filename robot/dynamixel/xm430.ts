/**
 * XM430-W350 control table, Protocol 2.0 (ROBOTIS e-manual, "XM430-W350",
 * Control Table of EEPROM Area / RAM Area, and the per-item descriptions for
 * units and ranges). Indirect Address/Data (168..251, 578..661) are not
 * described: nothing in s2r uses them and the virtual device does not emulate
 * the indirection.
 */

import { findRegister, type ControlTable, type RegisterEntry } from "./control-table.js";
import { HARDWARE_ERROR_BITS } from "./hardware-error.js";

export const XM430_W350_MODEL_NUMBER = 1020;

const COUNT_DEG = 360 / 4096; // e-manual: 0.088 °/value, 4096 per revolution
const RPM = 0.229; // rev/min per count
const ACC = 214.577; // rev/min² per count
const MA = 2.69; // mA per count
const PWM = 100 / 885; // % per count (885 = 100 %); the e-manual rounds it to 0.113 %

const hardwareBits: Record<number, string> = Object.fromEntries(HARDWARE_ERROR_BITS.map((b) => [b.bit, b.name]));
const onOff = { 0: "off", 1: "on" } as const;

type Spec = Omit<RegisterEntry, "area" | "signed"> & { signed?: boolean };

const eeprom = (s: Spec): RegisterEntry => ({ ...s, signed: s.signed ?? false, area: "EEPROM" });
const ram = (s: Spec): RegisterEntry => ({ ...s, signed: s.signed ?? false, area: "RAM" });

const ENTRIES: RegisterEntry[] = [
  eeprom({ name: "Model Number", address: 0, size: 2, access: "R", initial: XM430_W350_MODEL_NUMBER, description: "model number (1020 for the XM430-W350)" }),
  eeprom({ name: "Model Information", address: 2, size: 4, access: "R", initial: 0, description: "model information" }),
  eeprom({ name: "Firmware Version", address: 6, size: 1, access: "R", initial: 46, description: "firmware version" }),
  eeprom({ name: "ID", address: 7, size: 1, access: "RW", range: [0, 252], initial: 1, description: "device ID on the bus" }),
  eeprom({
    name: "Baud Rate",
    address: 8,
    size: 1,
    access: "RW",
    labels: { 0: "9600 bps", 1: "57600 bps", 2: "115200 bps", 3: "1M bps", 4: "2M bps", 5: "3M bps", 6: "4M bps", 7: "4.5M bps" },
    initial: 1,
    description: "communication speed",
  }),
  eeprom({ name: "Return Delay Time", address: 9, size: 1, access: "RW", unit: "µs", scale: 2, range: [0, 254], initial: 250, description: "delay before a status packet" }),
  eeprom({ name: "Drive Mode", address: 10, size: 1, access: "RW", bitNames: { 0: "Reverse Mode", 2: "Time-based Profile" }, range: [0, 255], initial: 0, description: "rotation direction and profile type" }),
  eeprom({
    name: "Operating Mode",
    address: 11,
    size: 1,
    access: "RW",
    labels: { 0: "Current Control Mode", 1: "Velocity Control Mode", 3: "Position Control Mode", 4: "Extended Position Control Mode", 5: "Current-based Position Control Mode", 16: "PWM Control Mode" },
    initial: 3,
    description: "control mode (16 = PWM, i.e. voltage control)",
  }),
  eeprom({ name: "Secondary ID", address: 12, size: 1, access: "RW", range: [0, 255], initial: 255, description: "shadow ID (253 and above disable it)" }),
  eeprom({ name: "Protocol Type", address: 13, size: 1, access: "RW", labels: { 1: "Protocol 1.0", 2: "Protocol 2.0" }, initial: 2, description: "protocol version" }),
  eeprom({ name: "Homing Offset", address: 20, size: 4, signed: true, access: "RW", unit: "°", scale: COUNT_DEG, range: [-1044479, 1044479], initial: 0, description: "home position offset" }),
  eeprom({ name: "Moving Threshold", address: 24, size: 4, access: "RW", unit: "rev/min", scale: RPM, range: [0, 1023], initial: 10, description: "velocity threshold for movement detection" }),
  eeprom({ name: "Temperature Limit", address: 31, size: 1, access: "RW", unit: "°C", scale: 1, range: [0, 100], initial: 80, description: "maximum internal temperature" }),
  eeprom({ name: "Max Voltage Limit", address: 32, size: 2, access: "RW", unit: "V", scale: 0.1, range: [95, 160], initial: 160, description: "maximum input voltage" }),
  eeprom({ name: "Min Voltage Limit", address: 34, size: 2, access: "RW", unit: "V", scale: 0.1, range: [95, 160], initial: 95, description: "minimum input voltage" }),
  eeprom({ name: "PWM Limit", address: 36, size: 2, access: "RW", unit: "%", scale: PWM, range: [0, 885], initial: 885, description: "maximum PWM output (885 = 100 % of supply)" }),
  eeprom({ name: "Current Limit", address: 38, size: 2, access: "RW", unit: "mA", scale: MA, range: [0, 1193], initial: 1193, description: "maximum current" }),
  eeprom({ name: "Acceleration Limit", address: 40, size: 4, access: "RW", unit: "rev/min²", scale: ACC, range: [0, 32767], initial: 32767, description: "maximum acceleration" }),
  eeprom({ name: "Velocity Limit", address: 44, size: 4, access: "RW", unit: "rev/min", scale: RPM, range: [0, 1023], initial: 350, description: "maximum velocity" }),
  eeprom({ name: "Max Position Limit", address: 48, size: 4, access: "RW", unit: "°", scale: COUNT_DEG, range: [0, 4095], initial: 4095, description: "maximum position (position control mode)" }),
  eeprom({ name: "Min Position Limit", address: 52, size: 4, access: "RW", unit: "°", scale: COUNT_DEG, range: [0, 4095], initial: 0, description: "minimum position (position control mode)" }),
  eeprom({ name: "Shutdown", address: 63, size: 1, access: "RW", bitNames: hardwareBits, range: [0, 255], initial: 52, description: "hardware errors that shut the motor down" }),

  ram({ name: "Torque Enable", address: 64, size: 1, access: "RW", labels: onOff, initial: 0, description: "motor torque on/off; on locks the EEPROM area" }),
  ram({ name: "LED", address: 65, size: 1, access: "RW", labels: onOff, initial: 0, description: "status LED" }),
  ram({ name: "Status Return Level", address: 68, size: 1, access: "RW", labels: { 0: "Ping only", 1: "Ping and Read", 2: "all instructions" }, initial: 2, description: "which instructions get a status packet" }),
  ram({ name: "Registered Instruction", address: 69, size: 1, access: "R", labels: { 0: "none", 1: "registered" }, initial: 0, description: "a Reg Write is waiting for Action" }),
  ram({ name: "Hardware Error Status", address: 70, size: 1, access: "R", bitNames: hardwareBits, initial: 0, description: "hardware errors present (cleared by Reboot)" }),
  ram({ name: "Velocity I Gain", address: 76, size: 2, access: "RW", range: [0, 16383], initial: 1920, description: "velocity loop I gain" }),
  ram({ name: "Velocity P Gain", address: 78, size: 2, access: "RW", range: [0, 16383], initial: 100, description: "velocity loop P gain" }),
  ram({ name: "Position D Gain", address: 80, size: 2, access: "RW", range: [0, 16383], initial: 0, description: "position loop D gain" }),
  ram({ name: "Position I Gain", address: 82, size: 2, access: "RW", range: [0, 16383], initial: 0, description: "position loop I gain" }),
  ram({ name: "Position P Gain", address: 84, size: 2, access: "RW", range: [0, 16383], initial: 800, description: "position loop P gain" }),
  ram({ name: "Feedforward 2nd Gain", address: 88, size: 2, access: "RW", range: [0, 16383], initial: 0, description: "acceleration feed-forward gain" }),
  ram({ name: "Feedforward 1st Gain", address: 90, size: 2, access: "RW", range: [0, 16383], initial: 0, description: "velocity feed-forward gain" }),
  // The e-manual calls the tripped state "-1"; read as the unsigned byte it is, that is 255.
  ram({ name: "Bus Watchdog", address: 98, size: 1, access: "RW", unit: "ms", scale: 20, range: [0, 127], labels: { 0: "disabled", 255: "tripped: goal writes refused until 0 is written" }, initial: 0, description: "stop the motor after this much bus silence" }),
  ram({ name: "Goal PWM", address: 100, size: 2, signed: true, access: "RW", unit: "%", scale: PWM, range: [-885, 885], limit: { symmetric: "PWM Limit" }, initial: { copy: "PWM Limit" }, description: "PWM (voltage) command, within ±PWM Limit" }),
  ram({ name: "Goal Current", address: 102, size: 2, signed: true, access: "RW", unit: "mA", scale: MA, range: [-1193, 1193], limit: { symmetric: "Current Limit" }, initial: { copy: "Current Limit" }, description: "current command, within ±Current Limit" }),
  ram({ name: "Goal Velocity", address: 104, size: 4, signed: true, access: "RW", unit: "rev/min", scale: RPM, range: [-1023, 1023], limit: { symmetric: "Velocity Limit" }, initial: 0, description: "velocity command, within ±Velocity Limit" }),
  ram({ name: "Profile Acceleration", address: 108, size: 4, access: "RW", unit: "rev/min²", scale: ACC, range: [0, 32767], initial: 0, description: "profile acceleration (ms with a time-based profile)" }),
  ram({ name: "Profile Velocity", address: 112, size: 4, access: "RW", unit: "rev/min", scale: RPM, range: [0, 32767], initial: 0, description: "profile velocity (ms with a time-based profile)" }),
  ram({ name: "Goal Position", address: 116, size: 4, signed: true, access: "RW", unit: "°", scale: COUNT_DEG, range: [-1048575, 1048575], limit: { min: "Min Position Limit", max: "Max Position Limit", modes: [3] }, initial: 0, description: "position command" }),
  ram({ name: "Realtime Tick", address: 120, size: 2, access: "R", unit: "ms", scale: 1, initial: 0, description: "device time, wraps at 32767" }),
  ram({ name: "Moving", address: 122, size: 1, access: "R", labels: { 0: "not moving", 1: "moving" }, initial: 0, description: "movement detected" }),
  ram({ name: "Moving Status", address: 123, size: 1, access: "R", initial: 0, description: "detailed movement status" }),
  ram({ name: "Present PWM", address: 124, size: 2, signed: true, access: "R", unit: "%", scale: PWM, initial: 0, description: "PWM applied to the motor" }),
  ram({ name: "Present Current", address: 126, size: 2, signed: true, access: "R", unit: "mA", scale: MA, initial: 0, description: "measured current" }),
  ram({ name: "Present Velocity", address: 128, size: 4, signed: true, access: "R", unit: "rev/min", scale: RPM, initial: 0, description: "measured velocity" }),
  ram({ name: "Present Position", address: 132, size: 4, signed: true, access: "R", unit: "°", scale: COUNT_DEG, initial: 0, description: "measured position, 4096 counts per revolution" }),
  ram({ name: "Velocity Trajectory", address: 136, size: 4, signed: true, access: "R", unit: "rev/min", scale: RPM, initial: 0, description: "velocity of the profile generator" }),
  ram({ name: "Position Trajectory", address: 140, size: 4, signed: true, access: "R", unit: "°", scale: COUNT_DEG, initial: 0, description: "position of the profile generator" }),
  ram({ name: "Present Input Voltage", address: 144, size: 2, access: "R", unit: "V", scale: 0.1, initial: 120, description: "supply voltage" }),
  ram({ name: "Present Temperature", address: 146, size: 1, access: "R", unit: "°C", scale: 1, initial: 30, description: "internal temperature" }),
];

export const XM430_W350: ControlTable = Object.freeze({
  model: "XM430-W350",
  modelNumber: XM430_W350_MODEL_NUMBER,
  entries: Object.freeze(ENTRIES.map((e) => Object.freeze(e))),
});

/** An XM430-W350 register by name ("goal_pwm", "GoalPWM", "Goal PWM") or address; the error lists near matches. */
export function xm430Register(name: string | number): RegisterEntry {
  return findRegister(XM430_W350, name);
}
