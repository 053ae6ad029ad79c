import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatNumber, renderHtmlReport, writeHtmlReport, type HtmlReport } from "../../common/report/html-report.js";
import { linePlot } from "../../common/report/line-plot.js";

const dir = mkdtempSync(join(tmpdir(), "s2r-report-test-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const plot = linePlot({ title: "return", xLabel: "step", yLabel: "return", series: [{ name: "mean", x: [0, 1, 2], y: [-5, -2, -1] }] });
const report: HtmlReport = {
  title: "Sysid <rig 1>",
  subtitle: "fixed subtitle",
  sections: [
    { heading: "Fit", text: "First paragraph & more.\n\nSecond <paragraph>.", plots: [plot] },
    { heading: "Parameters", table: { columns: ["name", "value", "ok"], rows: [["Jr", 2.41e-4, true], ["Lr", 0.0871, null], ["steps", 120000, false]] } },
  ],
};

test("the report is one self-contained HTML file with escaped text, inline SVG and tables", () => {
  const file = join(dir, "sub", "report.html");
  writeHtmlReport(file, report);
  const html = readFileSync(file, "utf8");
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<title>Sysid &lt;rig 1&gt;<\/title>/);
  assert.match(html, /<p>First paragraph &amp; more\.<\/p>\n<p>Second &lt;paragraph&gt;\.<\/p>/);
  assert.ok(html.includes(plot), "the SVG is inlined as is");
  assert.match(html, /<th>name<\/th><th>value<\/th><th>ok<\/th>/);
  assert.match(html, /<td>Jr<\/td><td class="num">2\.410e-4<\/td><td>true<\/td>/);
  assert.match(html, /<td class="num">120000<\/td>/);
  // Nothing to fetch: no external scripts, styles, images or fonts.
  assert.doesNotMatch(html, /<script|<link|<img|@import|url\(http|src=|href=/i);
  assert.match(html, /fixed subtitle/);
});

test("writing is atomic: no temp files left, and a failed write keeps the old report", () => {
  const sub = join(dir, "atomic");
  mkdirSync(sub);
  const file = join(sub, "r.html");
  writeFileSync(file, "old report");
  writeHtmlReport(file, report);
  assert.deepEqual(readdirSync(sub), ["r.html"]);
  assert.match(readFileSync(file, "utf8"), /Sysid/);

  // Invalid input fails before anything is written.
  writeFileSync(file, "old report");
  assert.throws(
    () => writeHtmlReport(file, { title: "x", sections: [{ heading: "T", table: { columns: ["a", "b"], rows: [["only one"]] } }] }),
    /section 0 \("T"\): table row 0 has 1 cells, expected 2/,
  );
  assert.equal(readFileSync(file, "utf8"), "old report");

  // The rename fails (the target is a non-empty directory): the error names the file and the temp file is removed.
  const blocked = join(sub, "blocked.html");
  mkdirSync(blocked);
  writeFileSync(join(blocked, "keep"), "x");
  assert.throws(() => writeHtmlReport(blocked, report), /report .*blocked\.html: cannot write: E(ISDIR|NOTEMPTY|EXIST)/);
  assert.deepEqual(readdirSync(sub).sort(), ["blocked.html", "r.html"]);
});

test("bad sections are errors naming the section", () => {
  assert.throws(() => renderHtmlReport({ title: "t", sections: [{ heading: "P", plots: ["<div>not svg</div>"] }] }), /section 0 \("P"\): plots\[0\] is not an SVG document/);
  assert.throws(() => renderHtmlReport({ title: "t", sections: [{} as never] }), /section 0 needs a heading/);
});

test("table numbers are short and exact enough", () => {
  assert.equal(formatNumber(3), "3");
  assert.equal(formatNumber(0.123456), "0.1235");
  assert.equal(formatNumber(1234.5678), "1235");
  assert.equal(formatNumber(2.5e-5), "2.500e-5");
  assert.equal(formatNumber(3.2e7 + 0.5), "3.200e+7");
  assert.equal(formatNumber(NaN), "NaN");
});
