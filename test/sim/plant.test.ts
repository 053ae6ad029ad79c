import test from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../common/rng.js";
import { PlantGroup, RobotPlant } from "../../sim/plant.js";
import { setupTask } from "../../sim/env/sim-env.js";
import { getTask } from "../../sim/tasks/registry.js";
import { furutaConfigSchema } from "../../sim/tasks/furuta/config.js";

const cfg = furutaConfigSchema.defaults();
const setup = setupTask(getTask("furuta"), cfg);
const { model, table } = setup;
const robot = cfg.robot;

function withValues(values: Record<string, number>): Float64Array {
  const v = table.nominal();
  for (const [k, x] of Object.entries(values)) v[table.indexOf(k)] = x;
  return v;
}

/** Arm angle after each physics step of `dt`, for a 3 V step issued at t = 0 with the given latency. */
async function stepResponse(latency: number, dt: number, substep: number, duration: number): Promise<number[]> {
  const plant = await RobotPlant.create(model, table, robot, dt, substep);
  plant.setParams(withValues({ "actuators.arm.latency": latency }));
  plant.reset([0, 0], [0, 0]);
  plant.command([3]);
  const out: number[] = [];
  for (let k = 0; k < Math.round(duration / dt); k++) {
    plant.advance(1);
    out.push(plant.q[0]!);
  }
  plant.dispose();
  return out;
}

test("latency finer than the physics step: 3 ms lands between 0 and 5 ms, monotonic, close to a fine-step simulation", async (t) => {
  const { physicsDt: dt, physicsSubstep: h } = cfg;
  assert.equal(dt, 0.005, "the test is about 5 ms physics steps");
  const at = (r: number[]) => r[3]!; // arm angle at 20 ms
  const byLatency: number[] = [];
  for (const ms of [0, 1, 2, 3, 4, 5]) byLatency.push(at(await stepResponse(ms / 1000, dt, h, 0.02)));
  t.diagnostic(`arm angle at 20 ms for latency 0..5 ms: ${byLatency.map((x) => x.toExponential(4)).join(", ")}`);
  for (let k = 1; k < byLatency.length; k++) assert.ok(byLatency[k]! < byLatency[k - 1]!, `more latency, less motion (${k - 1} -> ${k} ms)`);
  // Not quantized to the step: a 0.5 ms-step simulation with the same 3 ms latency agrees far better than either neighbour.
  const fine = (await stepResponse(0.003, 0.0005, 0.0001, 0.02))[39]!;
  const err = Math.abs(byLatency[3]! - fine);
  const spread = byLatency[0]! - byLatency[5]!;
  t.diagnostic(`3 ms latency at 5 ms steps: ${byLatency[3]!.toExponential(4)}; at 0.5 ms steps: ${fine.toExponential(4)} (0..5 ms spread ${spread.toExponential(2)})`);
  assert.ok(err < 0.1 * spread, `5 ms steps with 3 ms latency off a fine simulation by ${err}, over 10 % of the 0-5 ms spread ${spread}`);
});

test("a plant inside a group is bit-identical to a standalone plant with the same parameters and commands", async () => {
  const paramsOf = (i: number, episode: number) =>
    withValues({
      "links.pendulum.mass": 0.024 * (0.9 + 0.05 * i + 0.03 * episode),
      gravity: 9.81 * (0.85 + 0.1 * i),
      "actuators.arm.latency": 0.0013 * i + 0.002 * episode,
      "actuators.arm.km": 0.042 * (1.1 - 0.05 * i),
      "joints.arm_joint.friction": 0.001 * i,
    });
  const run = (plant: RobotPlant, i: number, advance: (n: number) => void): number[] => {
    const rng = new Rng(70 + i);
    const out: number[] = [];
    for (let episode = 0; episode < 2; episode++) {
      plant.setParams(paramsOf(i, episode));
      plant.reset([0.1 * i, 0.3 + 0.2 * i], [0, 0], 0.5);
      for (let k = 0; k < 40; k++) {
        plant.command([rng.uniform(-6, 6)]);
        advance(2);
        out.push(...plant.q, ...plant.qd, plant.time);
      }
    }
    return out;
  };
  const group = await PlantGroup.create(model, table, robot, 4, { dt: cfg.physicsDt, substep: cfg.physicsSubstep });
  const recorded: number[][] = [[], [], [], []];
  // Drive all four in lockstep, as a vector env does.
  const rngs = [0, 1, 2, 3].map((i) => new Rng(70 + i));
  for (let episode = 0; episode < 2; episode++) {
    group.plants.forEach((p, i) => {
      p.setParams(paramsOf(i, episode));
      p.reset([0.1 * i, 0.3 + 0.2 * i], [0, 0], 0.5);
    });
    for (let k = 0; k < 40; k++) {
      group.plants.forEach((p, i) => p.command([rngs[i]!.uniform(-6, 6)]));
      group.advance(2);
      group.plants.forEach((p, i) => recorded[i]!.push(...p.q, ...p.qd, p.time));
    }
  }
  assert.throws(() => group.plants[1]!.advance(1), /robot 1 of a group of 4 sharing one physics world; advance the group/);
  assert.throws(() => group.plants[1]!.dispose(), /dispose the group/);
  group.dispose();
  for (const i of [0, 2]) {
    const alone = await RobotPlant.create(model, table, robot, cfg.physicsDt, cfg.physicsSubstep);
    const got = run(alone, i, (n) => alone.advance(n));
    alone.dispose();
    assert.equal(got.length, recorded[i]!.length);
    for (let k = 0; k < got.length; k++) if (!Object.is(got[k], recorded[i]![k])) assert.fail(`plant ${i}: first difference at value ${k}: ${got[k]} vs ${recorded[i]![k]}`);
  }
  // The plants really differ (own parameters, gravity and commands).
  assert.notDeepEqual(recorded[0], recorded[2]);
});

test("plant clock and bad input", async () => {
  const plant = await RobotPlant.create(model, table, robot, cfg.physicsDt, cfg.physicsSubstep);
  assert.equal(plant.physicsSubstep, cfg.physicsSubstep);
  plant.reset([0, 0], [0, 0]);
  plant.advance(7);
  assert.equal(plant.time, 7 * cfg.physicsDt);
  assert.throws(() => plant.setParams(new Float64Array(3)), /3 values, the parameter table has \d+/);
  // Many pending commands (a long latency) are kept in order, then act one by one.
  plant.setParams(withValues({ "actuators.arm.latency": 0.2 }));
  plant.reset([0, 0], [0, 0]);
  for (let k = 0; k < 50; k++) {
    plant.command([k < 40 ? 0 : 6]);
    plant.advance(1);
  }
  assert.ok(Math.abs(plant.q[0]!) < 1e-6, `nothing acts before 0.2 s (${plant.q[0]})`);
  for (let k = 0; k < 45; k++) plant.advance(1);
  assert.ok(plant.q[0]! > 0.01, `the 6 V commands issued at 0.2 s act from 0.4 s (${plant.q[0]})`);
  plant.dispose();
  await assert.rejects(PlantGroup.create(model, table, robot, 0, { dt: 0.005 }), /count must be an integer >= 1, got 0/);
});
