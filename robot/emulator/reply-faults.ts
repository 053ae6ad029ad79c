/**
 * Corrupt answers on the emulated bus, for the fault matrix: a burst of
 * status packets whose CRC does not match, as electrical noise on a long
 * RS-485 cable or a failing adapter produces. Data, not code paths:
 *
 *   --corrupt-replies after=2s,count=40[,rate=1][,enable=2]
 *   --corrupt-replies FILE.json   {"afterMs": 2000, "count": 40, "rate": 1, "enable": 2}
 *
 * The burst is armed when a motor's torque is enabled for the `enable`-th
 * time (default 1; `s2r deploy` enables it once to home the arm, then again
 * for the episode, so enable=2 lands "after" into the episode however long
 * homing and settling took) and starts
 * `after` later; from then on each answer is corrupted with probability
 * `rate` (seeded) until `count` answers have been corrupted. Corrupting
 * flips the last byte of the answer (its CRC high byte).
 */
import { readJsonFile } from "../../common/json-file.js";
import { Rng } from "../../common/rng.js";
import { ConfigError, int, num, obj, type Infer } from "../../common/schema.js";

export const replyCorruptionSchema = obj({
  /** Delay after the first torque enable before the burst starts, ms. */
  afterMs: num(undefined, { min: 0 }),
  /** Answers corrupted in the burst. */
  count: int(undefined, { min: 1 }),
  /** Probability that an answer in the burst is corrupted. */
  rate: num(1, { min: 0, max: 1, exclusiveMin: true }),
  /** Which torque enable (counted over the motors, 1 = the first) arms the burst. */
  enable: int(1, { min: 1 }),
});

export type ReplyCorruptionSpec = Infer<typeof replyCorruptionSchema>;

/** "after=2s,count=40[,rate=1]" (after in s or ms; ms when none), or the path of a .json config. */
export function parseReplyCorruption(text: string): ReplyCorruptionSpec {
  if (text.endsWith(".json")) return readJsonFile(text, replyCorruptionSchema);
  const fields: Record<string, number> = {};
  for (const part of text.split(",")) {
    const m = /^\s*(after|count|rate|enable)\s*=\s*([0-9]*\.?[0-9]+(?:e-?\d+)?)\s*(ms|s)?\s*$/i.exec(part);
    if (!m) throw new ConfigError("corrupt-replies", `cannot read ${JSON.stringify(part)}: expected after=2s,count=40 (optionally rate=0.5), or a .json file`);
    const key = m[1]!.toLowerCase();
    const name = key === "after" ? "afterMs" : key;
    if (name in fields) throw new ConfigError(`corrupt-replies.${key}`, "given twice");
    if (key !== "after" && m[3]) throw new ConfigError(`corrupt-replies.${key}`, "takes no unit");
    fields[name] = key === "after" && m[3]?.toLowerCase() === "s" ? Number(m[2]) * 1000 : Number(m[2]);
  }
  for (const k of ["after", "count"]) if (!((k === "after" ? "afterMs" : k) in fields)) throw new ConfigError(`corrupt-replies.${k}`, "required (e.g. after=2s,count=40)");
  return replyCorruptionSchema.parse(fields, "corrupt-replies");
}

export class ReplyCorruption {
  private readonly rng: Rng;
  private startAt: number | undefined;
  private enables = 0;
  /** Answers corrupted so far. */
  corrupted = 0;
  /** Clock ms of the first corrupted answer, once there is one. */
  firstAt: number | undefined;

  constructor(
    readonly spec: ReplyCorruptionSpec,
    seed: number,
    /** Told when the first answer is corrupted (clock ms). */
    private readonly onStart: (atMs: number) => void = () => {},
  ) {
    this.rng = Rng.derive(seed, 0xc4c);
  }

  /** A motor's torque was enabled at `nowMs`; the `enable`-th call arms the burst. */
  torqueEnabled(nowMs: number): void {
    if (++this.enables === this.spec.enable) this.startAt = nowMs + this.spec.afterMs;
  }

  /** The answer as it leaves: corrupted in place while the burst lasts. */
  apply(answer: Uint8Array, nowMs: number): Uint8Array {
    if (this.startAt === undefined || nowMs < this.startAt || this.corrupted >= this.spec.count || answer.length === 0) return answer;
    if (this.rng.next() >= this.spec.rate) return answer;
    this.corrupted++;
    if (this.firstAt === undefined) {
      this.firstAt = nowMs;
      this.onStart(nowMs);
    }
    answer[answer.length - 1]! ^= 0xff;
    return answer;
  }

  describe(): string {
    const s = this.spec;
    return `${s.count} corrupt answers${s.rate < 1 ? ` (rate ${s.rate})` : ""} from ${s.afterMs} ms after torque enable ${s.enable}`;
  }
}
