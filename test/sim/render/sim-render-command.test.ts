import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { runCli as run } from "../../run-cli.js";

test("s2r sim render writes PNG frames and a contact sheet; randomized frames vary", async () => {
  const dir = mkdtempSync(join(tmpdir(), "s2r-render-"));
  const r = await run(["sim", "render", "furuta", "--frames", "4", "--size", "40x30", "--randomized", "--seed", "3", "--out", dir]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readdirSync(dir).sort(), ["contact-sheet.png", "frame-000.png", "frame-001.png", "frame-002.png", "frame-003.png"]);
  const frames = [0, 1, 2, 3].map((k) => PNG.sync.read(readFileSync(join(dir, `frame-00${k}.png`))));
  for (const f of frames) assert.deepEqual([f.width, f.height], [40, 30]);
  // Different looks: the mean colours of the frames differ.
  const means = frames.map((f) => [0, 1, 2].map((c) => f.data.filter((_, i) => i % 4 === c).reduce((a, b) => a + b, 0) / (40 * 30)));
  assert.equal(new Set(means.map((m) => m.map((x) => x.toFixed(0)).join())).size, 4, JSON.stringify(means));
  const sheet = PNG.sync.read(readFileSync(join(dir, "contact-sheet.png")));
  assert.deepEqual([sheet.width, sheet.height], [2 * 40 + 3 * 2, 2 * 30 + 3 * 2]);
});

test("s2r sim render: bad options are usage errors", async () => {
  assert.equal((await run(["sim", "render", "furuta", "--frames", "2"])).code, 2);
  const bad = await run(["sim", "render", "furuta", "--size", "96", "--out", "/tmp/x"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--size expects WxH/);
});
