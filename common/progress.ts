/**
 * Progress display for long jobs (training, sysid, benchmarks). On a terminal
 * it redraws one line in place, at most ~10 times a second: bar, percentage,
 * smoothed rate, ETA and the job's own fields ("return -12.3  success 45%").
 * Elsewhere (CI, pipes, log files) it prints a plain line at most every N
 * seconds so the log stays readable, and always a final line from done().
 */

export interface ProgressOptions {
  /** Units of work in the job; omit (or 0) when unknown: no bar, percentage or ETA then. */
  total?: number;
  label: string;
  stream: { write(text: string): unknown; columns?: number };
  /** True on a terminal (redraw in place); false for pipes and CI logs. */
  interactive: boolean;
  /** Name of a unit of work, shown in the rate ("steps" gives "1.2k steps/s"). */
  unit?: string;
  /** Non-interactive: at most one line per this many seconds. Default 10. */
  intervalSeconds?: number;
  /** Milliseconds clock; tests pass a fake one. Default performance.now. */
  now?: () => number;
}

export type ProgressFields = Record<string, string | number>;

const REDRAW_MS = 100;
/** Time constant of the rate's exponential smoothing. */
const RATE_TAU_S = 5;
const BAR_WIDTH = 24;

export class Progress {
  readonly label: string;
  readonly total: number;
  #stream: ProgressOptions["stream"];
  #interactive: boolean;
  #unit: string;
  #intervalMs: number;
  #now: () => number;
  #start: number;
  #lastDraw = -Infinity;
  #lastSample: { t: number; done: number };
  #rate: number | undefined;
  #done = 0;
  #fields: ProgressFields = {};
  #finished = false;

  constructor(options: ProgressOptions) {
    const total = options.total ?? 0;
    if (!(Number.isFinite(total) && total >= 0)) throw new Error(`Progress ${JSON.stringify(options.label)}: total must be a number >= 0, got ${options.total}`);
    const interval = options.intervalSeconds ?? 10;
    if (!(Number.isFinite(interval) && interval > 0)) throw new Error(`Progress ${JSON.stringify(options.label)}: intervalSeconds must be > 0, got ${interval}`);
    this.label = options.label;
    this.total = total;
    this.#stream = options.stream;
    this.#interactive = options.interactive;
    this.#unit = options.unit ?? "";
    this.#intervalMs = interval * 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
    this.#lastSample = { t: this.#start, done: 0 };
  }

  /** Reports `done` units finished so far (absolute, not an increment), with the job's current figures. */
  update(done: number, fields?: ProgressFields): void {
    if (this.#finished) return;
    if (!Number.isFinite(done)) throw new Error(`Progress ${JSON.stringify(this.label)}: done must be a finite number, got ${done}`);
    const t = this.#now();
    this.#done = done;
    if (fields) this.#fields = fields;
    this.#sampleRate(t);
    if (this.#interactive) {
      if (t - this.#lastDraw < REDRAW_MS) return;
      this.#lastDraw = t;
      this.#stream.write(`\r${this.#fit(this.#barLine(t))}\x1b[K`);
    } else {
      // The first update shows the job started; then one line per interval.
      if (this.#lastDraw !== -Infinity && t - this.#lastDraw < this.#intervalMs) return;
      this.#lastDraw = t;
      this.#stream.write(this.#plainLine(t) + "\n");
    }
  }

  /** Prints the final line (elapsed time, average rate, last fields). Idempotent. */
  done(fields?: ProgressFields): void {
    if (this.#finished) return;
    this.#finished = true;
    if (fields) this.#fields = fields;
    const t = this.#now();
    const elapsed = (t - this.#start) / 1000;
    const avg = elapsed > 0 ? this.#done / elapsed : undefined;
    const count = this.total > 0 ? `${fmtCount(this.#done)}/${fmtCount(this.total)}` : fmtCount(this.#done);
    const parts = [`${this.label}: done ${count}${this.#unit ? " " + this.#unit : ""} in ${fmtDuration(elapsed)}`];
    if (avg !== undefined) parts.push(`(${this.#fmtRate(avg)})`);
    const f = fmtFields(this.#fields);
    const line = parts.join(" ") + (f ? ` | ${f}` : "");
    this.#stream.write(this.#interactive ? `\r${line}\x1b[K\n` : line + "\n");
  }

  #sampleRate(t: number): void {
    const dt = (t - this.#lastSample.t) / 1000;
    if (dt < 0.2) return; // too short an interval for a meaningful rate
    const inst = (this.#done - this.#lastSample.done) / dt;
    const elapsed = (t - this.#start) / 1000;
    // Early on the average since start is the better estimate; later, smooth.
    if (this.#rate === undefined || elapsed < RATE_TAU_S) this.#rate = this.#done / elapsed;
    else this.#rate += (1 - Math.exp(-dt / RATE_TAU_S)) * (inst - this.#rate);
    this.#lastSample = { t, done: this.#done };
  }

  #eta(): string {
    if (!(this.total > 0) || this.#rate === undefined || !(this.#rate > 0)) return "--:--";
    return fmtDuration(Math.max(0, this.total - this.#done) / this.#rate);
  }

  #fmtRate(rate: number): string {
    return this.#unit ? `${fmtCount(rate)} ${this.#unit}/s` : `${fmtCount(rate)}/s`;
  }

  #barLine(t: number): string {
    const parts = [this.label];
    if (this.total > 0) {
      const frac = Math.min(1, Math.max(0, this.#done / this.total));
      const full = Math.round(frac * BAR_WIDTH);
      parts.push(`[${"#".repeat(full)}${"-".repeat(BAR_WIDTH - full)}]`, `${(frac * 100).toFixed(0).padStart(3)}%`, `${fmtCount(this.#done)}/${fmtCount(this.total)}`);
    } else parts.push(fmtCount(this.#done));
    parts.push(this.#rate === undefined ? "" : this.#fmtRate(this.#rate));
    if (this.total > 0) parts.push(`ETA ${this.#eta()}`);
    else parts.push(fmtDuration((t - this.#start) / 1000));
    const f = fmtFields(this.#fields);
    if (f) parts.push(f);
    return parts.filter(Boolean).join("  ");
  }

  #plainLine(t: number): string {
    const elapsed = fmtDuration((t - this.#start) / 1000);
    const parts: string[] = [];
    if (this.total > 0) parts.push(`${(Math.min(1, this.#done / this.total) * 100).toFixed(0)}% (${fmtCount(this.#done)}/${fmtCount(this.total)})`);
    else parts.push(fmtCount(this.#done));
    if (this.#rate !== undefined) parts.push(this.#fmtRate(this.#rate));
    parts.push(`elapsed ${elapsed}`);
    if (this.total > 0) parts.push(`ETA ${this.#eta()}`);
    const f = fmtFields(this.#fields);
    return `${this.label}: ${parts.join(", ")}${f ? ` | ${f}` : ""}`;
  }

  /** A line longer than the terminal would wrap, and "\r" would then redraw only its last row. */
  #fit(line: string): string {
    const cols = this.#stream.columns ?? 80;
    return line.length < cols ? line : line.slice(0, Math.max(10, cols - 2)) + "…";
  }
}

/** 1234 -> "1234", 12345 -> "12.3k", 2.5e6 -> "2.50M", 0.123 -> "0.123". */
export function fmtCount(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(2) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(1) + "k";
  if (Number.isInteger(v)) return String(v);
  return a >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3)));
}

/** Seconds to "m:ss" or "h:mm:ss". */
export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function fmtFields(fields: ProgressFields): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === "number" ? fmtField(v) : v}`)
    .join("  ");
}

function fmtField(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a !== 0 && a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}
