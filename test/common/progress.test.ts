import test from "node:test";
import assert from "node:assert/strict";
import { fmtCount, fmtDuration, Progress } from "../../common/progress.js";

function sink(columns?: number) {
  const chunks: string[] = [];
  return { stream: { write: (s: string) => void chunks.push(s), columns }, text: () => chunks.join(""), chunks };
}

test("non-interactive: a plain line at the start, then at most one per interval, and a final line", () => {
  let now = 0;
  const out = sink();
  const p = new Progress({ total: 1000, label: "train", unit: "steps", stream: out.stream, interactive: false, now: () => now });
  // 10 steps/s for 35 s, updated 10 times a second.
  for (let k = 1; k <= 350; k++) {
    now = k * 100;
    p.update(k, { return: -12.34 + k * 0.01, success: `${Math.round(k / 10)}%` });
  }
  p.done({ return: -8.8, success: "45%" });
  const lines = out.text().split("\n").filter(Boolean);
  assert.equal(lines.length, 5, lines.join("\n")); // t=0.1 s, 10.1, 20.1, 30.1, and done
  assert.ok(!out.text().includes("\r") && !out.text().includes("\x1b"), "no terminal control codes in logs");
  assert.match(lines[2]!, /^train: 20% \(201\/1000\), 10 steps\/s, elapsed 0:20, ETA 1:20 \| return -10.3  success 20%$/);
  assert.match(lines[4]!, /^train: done 350\/1000 steps in 0:35 \(10 steps\/s\) \| return -8.8  success 45%$/);
  p.done();
  assert.equal(out.text().split("\n").filter(Boolean).length, 5, "done() is idempotent");
});

test("interactive: redraws in place at most ~10 times a second, fits the terminal, ends with a newline", () => {
  let now = 0;
  const out = sink(60);
  const p = new Progress({ total: 200, label: "sysid", stream: out.stream, interactive: true, now: () => now });
  for (let k = 1; k <= 200; k++) {
    now = k * 5; // an update every 5 ms for 1 s
    p.update(k, { loss: 0.0123 });
  }
  assert.ok(out.chunks.length <= 11, `${out.chunks.length} redraws in 1 s`);
  assert.ok(!out.text().includes("\n"));
  for (const c of out.chunks) {
    assert.ok(c.startsWith("\r") && c.endsWith("\x1b[K"));
    assert.ok(c.length - 4 < 60, `line fits in 60 columns: ${JSON.stringify(c)}`);
  }
  assert.match(out.chunks.at(-1)!, /sysid  \[#+-*\]/);
  p.done();
  assert.match(out.text(), /\rsysid: done 200\/200 in 0:01 \(200\/s\) \| loss 0\.0123\x1b\[K\n$/);
});

test("unknown total: no bar, percentage or ETA; rate and elapsed time instead", () => {
  let now = 0;
  const out = sink(200);
  const p = new Progress({ label: "collect", stream: out.stream, interactive: true, now: () => now, unit: "samples" });
  now = 1000;
  p.update(5000);
  const line = out.chunks[0]!.replace("\x1b[K", "");
  assert.doesNotMatch(line, /%|ETA|\[/);
  assert.match(line, /collect  5000  5000 samples\/s  0:01/);
});

test("the rate is smoothed: a burst moves it only part of the way", () => {
  let now = 0;
  let done = 0;
  const out = sink();
  const p = new Progress({ total: 1e6, label: "x", stream: out.stream, interactive: false, intervalSeconds: 1, now: () => now });
  for (let s = 1; s <= 20; s++) {
    now = s * 1000;
    done += 100;
    p.update(done);
  }
  assert.match(out.chunks.at(-1)!, / 100\/s,/);
  now += 1000;
  done += 1000; // one second at 10x the rate
  p.update(done);
  const rate = Number(/ (\d+)\/s,/.exec(out.chunks.at(-1)!)![1]);
  assert.ok(rate > 100 && rate < 500, `smoothed rate ${rate}`);
});

test("bad arguments are clear errors; formatting helpers", () => {
  const out = sink();
  assert.throws(() => new Progress({ total: -1, label: "a", stream: out.stream, interactive: false }), /Progress "a": total must be a number >= 0/);
  assert.throws(() => new Progress({ total: 1, label: "a", stream: out.stream, interactive: false }).update(NaN), /done must be a finite number/);
  assert.equal(fmtCount(12345), "12.3k");
  assert.equal(fmtCount(2.5e6), "2.50M");
  assert.equal(fmtCount(0.1234), "0.123");
  assert.equal(fmtDuration(3725), "1:02:05");
  assert.equal(fmtDuration(65), "1:05");
  assert.equal(fmtDuration(Infinity), "--:--");
});
