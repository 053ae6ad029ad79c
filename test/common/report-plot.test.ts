import test from "node:test";
import assert from "node:assert/strict";
import { linePlot } from "../../common/report/line-plot.js";
import { niceTicks } from "../../common/report/ticks.js";
import { finiteRuns } from "../../common/report/downsample.js";

/** A strict-enough XML well-formedness check for generated SVG (no DTDs, comments or CDATA expected). */
function assertWellFormedXml(xml: string): void {
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"<]*")*)\s*(\/?)>/y;
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const checkText = (text: string, at: number) => {
    for (let k = text.indexOf("&"); k >= 0; k = text.indexOf("&", k + 1)) {
      entity.lastIndex = k;
      assert.ok(entity.test(text), `bare & at ${at + k}`);
    }
  };
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (stack.length === 0) assert.match(text, /^\s*$/, `text outside the root element at ${i}`);
    assert.ok(!text.includes(">") || stack.length > 0, `stray > at ${i}`);
    checkText(text, i);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    assert.ok(m, `malformed tag at ${lt}: ${xml.slice(lt, lt + 60)}`);
    const [whole, close, name, attrs, selfClose] = m;
    const attrNames = [...attrs!.matchAll(/([A-Za-z_:][\w:.-]*)="([^"]*)"/g)].map((a) => {
      checkText(a[2]!, lt);
      return a[1]!;
    });
    assert.equal(new Set(attrNames).size, attrNames.length, `duplicate attribute in ${whole}`);
    if (close) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element at ${lt}`);
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
    i = lt + whole!.length;
  }
  assert.deepEqual(stack, [], "unclosed elements");
  assert.equal(roots, 1, "exactly one root element");
}

function tickLabels(svg: string, axis: "x" | "y"): string[] {
  const group = new RegExp(`<g class="${axis}-ticks"[^>]*>([\\s\\S]*?)</g>`).exec(svg)![1]!;
  return [...group.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

/** Labels parse as numbers spaced by one step of 1, 2 or 5 times a power of ten, printed without float residue. */
function assertRoundTicks(labels: string[]): void {
  assert.ok(labels.length >= 2, `at least two ticks, got ${labels.join(", ")}`);
  const values = labels.map(Number);
  for (const l of labels) {
    assert.ok(Number.isFinite(Number(l)), `tick label ${l} is a number`);
    assert.ok(l.replace(/e-?\d+$/, "").replace(/^-/, "").length <= 8, `tick label ${l} is short`);
  }
  const step = values[1]! - values[0]!;
  const exp = Math.floor(Math.log10(step) + 1e-9);
  const mant = Math.round((step / 10 ** exp) * 1e6) / 1e6;
  assert.ok([1, 2, 5].includes(mant), `step ${step} is 1, 2 or 5 x 10^k`);
  for (let k = 1; k < values.length; k++) assert.ok(Math.abs(values[k]! - values[k - 1]! - step) < step * 1e-6, `even spacing in ${labels.join(", ")}`);
  for (const v of values) assert.ok(Math.abs(v / step - Math.round(v / step)) < 1e-6, `${v} is a multiple of the step`);
}

test("a plot is well-formed SVG with every series, a legend, axis labels and round ticks", () => {
  const x = Array.from({ length: 200 }, (_, i) => i * 0.05);
  const svg = linePlot({
    title: "Arm & pendulum <angles>",
    xLabel: "time (s)",
    yLabel: "angle (rad)",
    series: [
      { name: "theta", x, y: x.map((t) => 0.3 * Math.sin(t)) },
      { name: 'alpha "real"', x, y: x.map((t) => Math.PI - 0.2 * Math.cos(t)) },
    ],
  });
  assertWellFormedXml(svg);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="720" height="360"/);
  assert.match(svg, /Arm &amp; pendulum &lt;angles&gt;/);
  assert.equal((svg.match(/<g class="series"/g) ?? []).length, 2);
  assert.match(svg, /data-name="theta"/);
  assert.match(svg, /data-name="alpha &quot;real&quot;"/);
  assert.equal((svg.match(/class="legend-item"/g) ?? []).length, 2);
  assert.match(svg, />time \(s\)</);
  assert.match(svg, />angle \(rad\)</);
  assertRoundTicks(tickLabels(svg, "x"));
  assertRoundTicks(tickLabels(svg, "y"));
  assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
});

test("ticks are round numbers at awkward, tiny, huge and degenerate ranges", () => {
  for (const [lo, hi] of [
    [0, 0.3],
    [-1.7, 12.3],
    [0.1, 0.7],
    [1e-7, 9.3e-7],
    [-3.3e7, 1.2e8],
    [1234.5, 1234.9],
    [5, 5],
    [0, 0],
  ] as const) {
    const t = niceTicks(lo, hi, 5);
    assert.ok(t.lo <= Math.min(lo, hi) && t.hi >= Math.max(lo, hi), `[${lo}, ${hi}] is covered by [${t.lo}, ${t.hi}]`);
    assert.ok(t.values.length >= 2 && t.values.length <= 9, `[${lo}, ${hi}]: ${t.values.length} ticks`);
    assertRoundTicks(t.labels);
    t.labels.forEach((l, i) => assert.equal(Number(l), t.values[i], `label ${l} prints the tick value exactly`));
  }
  assert.deepEqual(niceTicks(0, 0.3, 5).labels, ["0.00", "0.05", "0.10", "0.15", "0.20", "0.25", "0.30"]);
  assert.deepEqual(niceTicks(-3.3e7, 1.2e8, 5).labels, ["-5.0e7", "0", "5.0e7", "1.0e8", "1.5e8"]);
  assert.deepEqual(niceTicks(NaN, NaN).labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
});

test("NaN makes a gap; a lone point between gaps is still drawn; no NaN reaches the SVG", () => {
  const x = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const y = [0, 1, NaN, 3, 4, NaN, 6, NaN, 8];
  const svg = linePlot({ title: "gaps", xLabel: "x", yLabel: "y", series: [{ name: "s", x, y }] });
  assertWellFormedXml(svg);
  const d = /<path d="([^"]*)"/.exec(svg)![1]!;
  assert.equal((d.match(/M/g) ?? []).length, 2, "two drawn runs: [0,1] and [3,4]");
  assert.equal((svg.match(/<circle /g) ?? []).length, 2, "the lone points 6 and 8 are dots");
  assert.doesNotMatch(svg, /NaN/);

  const empty = linePlot({ title: "empty", xLabel: "x", yLabel: "y", series: [{ name: "none", x: [NaN, 1], y: [1, NaN] }] });
  assertWellFormedXml(empty);
  assert.match(empty, /no data/);
});

test("a million points are reduced to what the width shows, keeping spikes", () => {
  const n = 1_000_000;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i / 1000;
    y[i] = Math.sin(i / 5000);
  }
  y[654_321] = 25; // one-sample spike
  y[123_456] = -30;
  const svg = linePlot({ title: "long", xLabel: "t", yLabel: "v", series: [{ name: "s", x, y }], width: 800, height: 300 });
  assertWellFormedXml(svg);
  const points = (/<path d="([^"]*)"/.exec(svg)![1]!.match(/[ML]/g) ?? []).length;
  assert.ok(points <= 4 * 800, `${points} points drawn`);
  assert.ok(svg.length < 200_000, `${svg.length} bytes`);
  const ys = tickLabels(svg, "y").map(Number);
  assert.ok(Math.max(...ys) >= 25 && Math.min(...ys) <= -30, "the axis covers the spikes");

  const runs = finiteRuns(x, y, 1000);
  const kept = runs[0]!.y;
  assert.ok(kept.includes(25) && kept.includes(-30), "the envelope keeps both spikes");
  assert.ok(kept.length <= 1000);
});

test("bad input is an error naming the series", () => {
  assert.throws(() => linePlot({ title: "t", xLabel: "", yLabel: "", series: [{ name: "vel", x: [1, 2], y: [1] }] }), /series 0 \("vel"\): x has 2 values but y has 1/);
  assert.throws(() => linePlot({ title: "t", xLabel: "", yLabel: "", series: [], yRange: [1, 1] }), /yRange must be two different finite numbers/);
  assert.throws(() => linePlot({ title: "t", xLabel: "", yLabel: "", series: [], width: 10 }), /width must be at least 100 pixels/);
});

test("fixed ranges clip the data and keep ticks inside", () => {
  const svg = linePlot({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "s", x: [0, 10], y: [-5, 5] }], xRange: [2, 8], yRange: [-1, 1] });
  assertWellFormedXml(svg);
  for (const v of tickLabels(svg, "x").map(Number)) assert.ok(v >= 2 && v <= 8);
  for (const v of tickLabels(svg, "y").map(Number)) assert.ok(v >= -1 && v <= 1);
  assert.match(svg, /clip-path="url\(#s2r-plot-\d+\)"/);
});
