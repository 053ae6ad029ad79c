import test from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../../common/rng.js";
import { ConfigError } from "../../../common/schema.js";
import { setupTask } from "../../../sim/env/sim-env.js";
import { getTask } from "../../../sim/tasks/registry.js";
import { randomizationSpecSchema } from "../../../sim/randomization/spec.js";
import { Randomizer } from "../../../sim/randomization/randomizer.js";

const task = getTask("furuta");
const furuta = () => setupTask(task, task.configSchema.parse({}, "config"));

test("every visual target of the Furuta's default spec is drawn within its range, per episode and per frame", () => {
  const setup = furuta();
  const table = setup.visualTable;
  const visual = setup.config.randomization.filter((e) => table.has(e.target));
  // Heavy randomization: link colours and textures, backdrop, distractors, light, camera pose/fov/exposure/noise/tone/channels/drops/delay.
  for (const prefix of ["visual.links.pendulum.", "visual.background.", "visual.distractors.", "visual.light.", "camera.front."]) {
    assert.ok(visual.some((e) => e.target.startsWith(prefix)), `the default spec randomizes ${prefix}*`);
  }
  assert.ok(visual.some((e) => e.when === "step"), "some entries are drawn per frame");
  const ep = new Float64Array(table.size), frame = new Float64Array(table.size);
  const seen = new Map<string, Set<number>>();
  const rng = new Rng(11);
  for (let i = 0; i < 300; i++) {
    setup.visualRandomizer.drawEpisode(rng, ep);
    setup.visualRandomizer.applyStep(rng, ep, frame);
    for (const e of visual) {
      const v = frame[table.indexOf(e.target)]!;
      if (e.distribution === "choice") {
        const options = table.entries[table.indexOf(e.target)]!.choices!;
        assert.ok(e.choices!.includes(options[v]!), `${e.target}: option ${v} not among ${e.choices}`);
        if (!seen.has(e.target)) seen.set(e.target, new Set());
        seen.get(e.target)!.add(v);
      } else {
        assert.ok(v >= (e.low as number) && v <= (e.high as number), `${e.target} = ${v} outside [${e.low}, ${e.high}]`);
      }
    }
  }
  for (const e of visual.filter((x) => x.distribution === "choice")) assert.equal(seen.get(e.target)!.size, e.choices!.length, `${e.target}: every option drawn`);
  // The dynamics ignore the visual entries: their privileged vector has no visual names.
  assert.ok(setup.randomizer.privilegedNames.every((n) => !n.startsWith("visual.") && !n.startsWith("camera.")));
});

test("visual targets are checked when the task loads: unknown names get suggestions, choice options are validated", () => {
  const load = (entry: object) => setupTask(task, task.configSchema.parse({ randomization: [entry] }, "config"));
  assert.throws(
    () => load({ target: "visual.light.intensty", low: 0, high: 1, mode: "absolute" }),
    (e: unknown) => e instanceof ConfigError && /randomization\[0\]\.target/.test(e.message) && /did you mean visual\.light\.intensity/.test(e.message),
  );
  assert.throws(() => load({ target: "camera.front.fovv", low: 0.9, high: 1.1 }), /did you mean camera\.front\.fov/);
  assert.throws(() => load({ target: "visual.links.arm.texture", distribution: "choice", choices: ["flat", "plaid"] }), /choices\[1\].*unknown option "plaid".*flat, noise, stripes, checker, gradient/);
  assert.throws(() => load({ target: "visual.links.arm.texture", low: 0, high: 3 }), /categorical.*use "distribution": "choice"/);
  assert.throws(() => load({ target: "visual.light.ambient", distribution: "choice", choices: ["a"] }), /not categorical/);
  assert.throws(() => load({ target: "visual.links.arm.texture", distribution: "choice" }), /choices: required for a choice distribution/);
});

test("a choice entry on a dynamics table is rejected (no dynamics parameter is categorical)", () => {
  const setup = furuta();
  assert.throws(() => new Randomizer(setup.table, randomizationSpecSchema.parse([{ target: "gravity", distribution: "choice", choices: ["x"] }], "r")), /not categorical/);
});
