/**
 * Control-table descriptions (address, size, sign, unit, access, area) and
 * what every model shares: lookup by forgiving names, little-endian value
 * encoding, and formatting with units. The XM430 data is in xm430.ts.
 */

export type Access = "R" | "RW";
export type Area = "EEPROM" | "RAM";

/** A write limit that depends on another register's value (violations are Data Limit Errors). */
export type RegisterLimit =
  /** -value(register) ..= value(register), e.g. Goal PWM within ±PWM Limit. */
  | { symmetric: string }
  /** value(min) ..= value(max), only while Operating Mode is one of `modes` (all modes when absent). */
  | { min: string; max: string; modes?: readonly number[] };

export interface RegisterEntry {
  /** As the e-manual writes it, e.g. "Goal PWM". */
  readonly name: string;
  readonly address: number;
  readonly size: 1 | 2 | 4;
  readonly signed: boolean;
  readonly access: Access;
  /** EEPROM registers (address < 64 on the X series) are writable only while torque is off. */
  readonly area: Area;
  /** Physical unit of `scale`, e.g. "%" or "rev/min"; absent for plain numbers and codes. */
  readonly unit?: string;
  /** Physical value of one count, e.g. 0.229 (rev/min). */
  readonly scale?: number;
  /** Raw values a write may use (violations are Data Range Errors). */
  readonly range?: readonly [number, number];
  /** When the register is an enumeration: its allowed values and their meaning. */
  readonly labels?: Readonly<Record<number, string>>;
  /** When the register is a bit field: the meaning of each bit. */
  readonly bitNames?: Readonly<Record<number, string>>;
  readonly limit?: RegisterLimit;
  /** Value at power-up / after Reboot, or the register whose value it copies then. */
  readonly initial: number | { copy: string };
  readonly description: string;
}

export interface ControlTable {
  readonly model: string;
  readonly modelNumber: number;
  readonly entries: readonly RegisterEntry[];
}

export class UnknownRegisterError extends Error {
  constructor(
    readonly query: string,
    readonly model: string,
    readonly suggestions: readonly string[],
  ) {
    super(
      `unknown ${model} register ${JSON.stringify(query)}` +
        (suggestions.length ? `; did you mean ${suggestions.map((s) => JSON.stringify(s)).join(", ")}?` : "; `s2r dxl read --help` lists the registers"),
    );
    this.name = "UnknownRegisterError";
  }
}

/** "Goal PWM", "goal_pwm", "GoalPWM", "goal-pwm" all become "goalpwm". */
export function normalizeRegisterName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** Names close to `query`, best first (shared words, substrings, small edit distance). */
export function nearRegisterNames(table: ControlTable, query: string, max = 5): string[] {
  const q = normalizeRegisterName(query);
  const words = query.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length >= 3);
  const scored = table.entries.map((e) => {
    const n = normalizeRegisterName(e.name);
    let score = editDistance(q, n);
    if (q.length >= 3 && (n.includes(q) || q.includes(n))) score = Math.min(score, 1);
    if (words.some((w) => n.includes(w))) score = Math.min(score, 2 + Math.abs(n.length - q.length) / 10);
    return { name: e.name, score };
  });
  const threshold = Math.max(2, Math.floor(q.length / 3));
  return scored
    .filter((s) => s.score <= threshold)
    .sort((a, b) => a.score - b.score)
    .slice(0, max)
    .map((s) => s.name);
}

/**
 * The register called `query` (case, spaces, underscores and hyphens ignored),
 * or at that address when `query` is a number. Throws UnknownRegisterError
 * listing near matches.
 */
export function findRegister(table: ControlTable, query: string | number): RegisterEntry {
  if (typeof query === "number" || /^\s*\d+\s*$/.test(query)) {
    const address = Number(query);
    const entry = table.entries.find((e) => e.address === address);
    if (entry) return entry;
    const near = table.entries
      .filter((e) => Math.abs(e.address - address) <= 4)
      .sort((a, b) => Math.abs(a.address - address) - Math.abs(b.address - address) || a.address - b.address);
    throw new UnknownRegisterError(String(query), table.model, near.map((e) => `${e.name} (${e.address})`));
  }
  const key = normalizeRegisterName(query);
  const entry = table.entries.find((e) => normalizeRegisterName(e.name) === key);
  if (entry) return entry;
  throw new UnknownRegisterError(query, table.model, nearRegisterNames(table, query));
}

/** The register starting at `address`, if any. */
export function registerAt(table: ControlTable, address: number): RegisterEntry | undefined {
  return table.entries.find((e) => e.address === address);
}

/** One past the highest address the table describes. */
export function tableEnd(table: ControlTable): number {
  return Math.max(...table.entries.map((e) => e.address + e.size));
}

/** Smallest and largest raw value the register's byte size and sign can hold. */
export function representableRange(entry: RegisterEntry): [number, number] {
  const bits = entry.size * 8;
  return entry.signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}

/** Little-endian bytes of a raw value; throws if it does not fit the register. */
export function encodeRegisterValue(entry: RegisterEntry, value: number): Uint8Array {
  const [lo, hi] = representableRange(entry);
  if (!Number.isInteger(value) || value < lo || value > hi) {
    throw new RangeError(`${entry.name} (${entry.address}) holds ${entry.signed ? "a signed" : "an unsigned"} ${entry.size}-byte integer ${lo}..${hi}, got ${value}`);
  }
  const out = new Uint8Array(entry.size);
  let v = value < 0 ? value + 2 ** (entry.size * 8) : value;
  for (let i = 0; i < entry.size; i++) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** Raw value of the register from little-endian bytes at `offset`. */
export function decodeRegisterValue(entry: RegisterEntry, bytes: Uint8Array, offset = 0): number {
  if (offset + entry.size > bytes.length) throw new RangeError(`${entry.name} needs ${entry.size} bytes at offset ${offset}, only ${bytes.length - offset} available`);
  let v = 0;
  for (let i = entry.size - 1; i >= 0; i--) v = v * 256 + bytes[offset + i]!;
  if (entry.signed && v >= 2 ** (entry.size * 8 - 1)) v -= 2 ** (entry.size * 8);
  return v;
}

/** Value in the register's physical unit (raw × scale), or undefined for unitless registers. */
export function toPhysical(entry: RegisterEntry, raw: number): number | undefined {
  return entry.scale === undefined ? undefined : raw * entry.scale;
}

function trim(x: number): string {
  return String(Number(x.toFixed(4)));
}

/** "100 (11.3 %)", "16 (PWM Control Mode)", "32 (Overload Error)", "1". */
export function formatRegisterValue(entry: RegisterEntry, raw: number): string {
  const label = entry.labels?.[raw];
  if (label !== undefined) return `${raw} (${label})`;
  if (entry.bitNames) {
    const names: string[] = [];
    for (let bit = 0; bit < entry.size * 8; bit++) if (raw & (1 << bit)) names.push(entry.bitNames[bit] ?? `bit ${bit}`);
    return names.length ? `${raw} (${names.join(", ")})` : `${raw} (none)`;
  }
  const physical = toPhysical(entry, raw);
  return physical === undefined ? String(raw) : `${raw} (${trim(physical)} ${entry.unit})`;
}
