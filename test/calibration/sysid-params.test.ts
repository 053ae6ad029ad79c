import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../common/rng.js";
import { parseSysidParams, readSysidParams, writeSysidParams, type SysidParams } from "../../calibration/sysid/params-file.js";
import { recenterRandomization } from "../../calibration/sysid/recenter.js";
import { furutaSysidRig } from "../../calibration/sysid/rig.js";
import { Randomizer } from "../../sim/randomization/randomizer.js";

function sample(): SysidParams {
  return {
    schema: 1,
    rig: "furuta",
    values: { Rm: 9.1, Lp: 0.125, armFriction: 2e-4, Jr: 2.5e-4 },
    stddev: { Rm: null, Lp: 1e-4, armFriction: 5e-5, Jr: 1e-6 },
    identifiable: { Rm: false, Lp: true, armFriction: true, Jr: true },
    targets: { "actuators.arm.Rm": 9.1, "links.pendulum.scale": 0.969, "joints.arm_joint.friction": 2e-4, "links.arm.mass": 0.1033 },
    targetStddev: { "actuators.arm.Rm": null, "links.pendulum.scale": 7.75e-4, "joints.arm_joint.friction": 5e-5, "links.arm.mass": 4e-4 },
    symbols: { Rm: "actuators.arm.Rm", Lp: "links.pendulum.scale", armFriction: "joints.arm_joint.friction", Jr: "links.arm.mass" },
    fixed: {},
    pinned: { Jr: ["links.arm.inertia", "links.arm.com", "links.arm.scale"] },
    fit: {
      costNominal: 100,
      costFitted: 2,
      heldOutErrorNominal: 0.1,
      heldOutErrorFitted: 0.002,
      heldOutSeconds: 4,
      fitSeconds: 16,
      segmentSeconds: 0.5,
      withCurrent: false,
      fitWallSeconds: 60,
      nullDirections: [{ judged: 0.6, components: { Rm: 0.7, km: 0.7 } }],
    },
  };
}

test("params.json round trip, and errors that name the file and the field", () => {
  const dir = mkdtempSync(join(tmpdir(), "sysid-params-"));
  const file = join(dir, "sub", "params.json");
  writeSysidParams(file, sample());
  assert.deepEqual(readSysidParams(file), sample());
  assert.equal(JSON.parse(readFileSync(file, "utf8")).schema, 1);

  const write = (v: unknown) => {
    writeFileSync(file, JSON.stringify(v));
    return () => readSysidParams(file);
  };
  assert.throws(write({ ...sample(), schema: 2 }), /params\.json: schema: this s2r reads sysid params schema 1, the file has schema 2/);
  assert.throws(write({ ...sample(), values: { ...sample().values, Rm: "9" } }), /params\.json: values\.Rm: expected a number/);
  assert.throws(write({ ...sample(), stddev: { Rm: 2, Lp: 1e-4 } }), /params\.json: stddev\.armFriction: missing/);
  assert.throws(write({ ...sample(), extra: 1 }), /params\.json: extra: unknown field/);
  assert.throws(write({ ...sample(), targets: { ...sample().targets, "links.arm.com": 1 } }), /targets\.links\.arm\.com: not named by any entry of symbols/);
  assert.throws(write({ ...sample(), fit: { ...sample().fit, costFitted: -1 } }), /fit\.costFitted: expected a number >= 0/);
  assert.throws(write({ ...sample(), stddev: { ...sample().stddev, Lp: -1 } }), /stddev\.Lp: expected a number >= 0/);
  assert.throws(write({ ...sample(), pinned: { km: [] } }), /pinned\.km: no such parameter in values/);
  assert.throws(() => readSysidParams(join(dir, "none.json")), /none\.json: \(root\): cannot read file: ENOENT/);
  assert.throws(() => parseSysidParams({ ...sample(), rig: 3 }, "x.json"), /x\.json: rig: expected a string/);
});

test("recenterRandomization narrows identified entries to +-2 sd (floored), keeps the rest, and the result loads", () => {
  const rig = furutaSysidRig();
  const spec = rig.setup.config.randomization;
  const out = recenterRandomization(spec, sample(), { floor: 0.03 });
  // Jr is identified through the arm's mass: its shape entries (links.arm.inertia is randomized
  // by the task) are held at their fit-time (nominal) values, and links.arm.mass is added.
  assert.equal(out.length, spec.length);
  assert.equal(out.find((e) => e.target === "links.arm.inertia"), undefined);
  assert.ok(out.find((e) => e.target === "links.arm.mass"));
  const byTarget = new Map(out.map((e) => [e.target, e]));
  // Lp: 2 sd = 1.55e-3 is below the 3 % floor (0.029).
  const lp = byTarget.get("links.pendulum.scale")!;
  assert.equal(lp.mode, "absolute");
  assert.ok(Math.abs((lp.low as number) - 0.969 * 0.97) < 1e-12 && Math.abs((lp.high as number) - 0.969 * 1.03) < 1e-12);
  // Friction: 2 sd = 1e-4 dominates the floor (6e-6).
  const fr = byTarget.get("joints.arm_joint.friction")!;
  assert.ok(Math.abs((fr.low as number) - 1e-4) < 1e-12 && Math.abs((fr.high as number) - 3e-4) < 1e-12);
  // Rm was not identified: the task's own entry stays.
  assert.deepEqual(byTarget.get("actuators.arm.Rm"), spec.find((e) => e.target === "actuators.arm.Rm"));
  // Everything else is untouched.
  for (const e of spec) if (!["links.pendulum.scale", "joints.arm_joint.friction", "links.arm.inertia", "links.arm.mass"].includes(e.target)) assert.deepEqual(byTarget.get(e.target), e);
  // A pinned entry the fit held at a fixed value stays at that value.
  const held = recenterRandomization(spec, { ...sample(), fixed: { "links.arm.inertia": 1.1 } }).find((e) => e.target === "links.arm.inertia")!;
  assert.equal(held.low, 1.1);
  assert.equal(held.high, 1.1);

  const randomizer = new Randomizer(rig.setup.table, out);
  const values = new Float64Array(rig.setup.table.size);
  const rng = new Rng(3);
  const iLp = rig.setup.table.indexOf("links.pendulum.scale");
  for (let i = 0; i < 50; i++) {
    randomizer.drawEpisode(rng, values);
    assert.ok(values[iLp]! >= (lp.low as number) && values[iLp]! <= (lp.high as number));
  }

  // A magnitude near zero is never randomized below zero; an identified entry the task lacked is added.
  const p = sample();
  p.targetStddev["joints.arm_joint.friction"] = 3e-4;
  const noFriction = spec.filter((e) => e.target !== "joints.arm_joint.friction");
  const added = recenterRandomization(noFriction, p).find((e) => e.target === "joints.arm_joint.friction")!;
  assert.equal(added.low, 0);
  assert.ok(Math.abs((added.high as number) - 8e-4) < 1e-12);
  assert.throws(() => recenterRandomization(spec, sample(), { floor: 1.5 }), /floor must be a fraction/);
  const inconsistent = sample();
  inconsistent.identifiable.Rm = true;
  assert.throws(() => recenterRandomization(spec, inconsistent), /targetStddev\.actuators\.arm\.Rm: Rm is marked identifiable but has no standard deviation/);
});
