/**
 * The emulator's hidden looks lie outside the training randomization: for
 * every numeric target both specs draw, the ranges do not overlap, except
 * the circular ones (hue, light azimuth) that have no outside.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../common/rng.js";
import { setupTask } from "../../../sim/env/sim-env.js";
import { Randomizer } from "../../../sim/randomization/randomizer.js";
import { heavyVisualRandomization } from "../../../sim/render/heavy-visual-spec.js";
import { hiddenVisualLooks } from "../../../sim/render/hidden-visual-spec.js";
import { visibleLinks } from "../../../sim/render/visual-params.js";
import { getTask } from "../../../sim/tasks/registry.js";

const task = getTask("furuta");
const setup = setupTask(task, task.configSchema.parse({}, "task"));
const links = visibleLinks(setup.model);
const hidden = hiddenVisualLooks(links, "front");
const training = heavyVisualRandomization(links, "front");
// Training draws these over their whole domain: there is no outside.
const NO_OUTSIDE = /\.hue$|\.saturation$|light\.azimuth$/;

test("hidden looks: every range is outside the training range of the same target, except the ones with no outside", () => {
  let checked = 0;
  for (const h of hidden) {
    const t = training.find((e) => e.target === h.target);
    assert.ok(t, `${h.target} is randomized in training too (a target training leaves nominal would be a gap of its own)`);
    if (NO_OUTSIDE.test(h.target)) continue;
    const lo = (t as { low: number }).low;
    const hi = (t as { high: number }).high;
    assert.ok(h.high < lo || h.low > hi, `${h.target}: hidden [${h.low}, ${h.high}] overlaps training [${lo}, ${hi}]`);
    checked++;
  }
  assert.ok(checked >= 13, `${checked} ranges checked`);
});

test("hidden looks: the camera's calibration, channel order, drops, delays and distractors stay nominal (camera_info stays true, the pendulum stays in view)", () => {
  const kept = [...["x", "y", "z", "roll", "pitch", "yaw", "fov", "channelOrder", "dropRate", "delay"].map((p) => `camera.front.${p}`), "visual.distractors.count"];
  for (const target of kept) assert.ok(!hidden.some((e) => e.target === target), `${target} is not drawn`);
  const r = new Randomizer(setup.visualTable, hidden, "hiddenLooks");
  const v = setup.visualTable.nominal();
  r.drawEpisode(new Rng(5), v);
  const nominal = setup.visualTable.nominal();
  for (const target of kept) assert.equal(v[setup.visualTable.indexOf(target)], nominal[setup.visualTable.indexOf(target)], target);
  const bg = v[setup.visualTable.indexOf("visual.background.value")]!;
  assert.ok(bg < 0.12, `a dark backdrop (${bg})`);
});
