import test from "node:test";
import assert from "node:assert/strict";
import { Adr, adrConfigSchema } from "../../sim/randomization/adr.js";
import { LocalVecEnv } from "../../sim/env/local-vec-env.js";
import { ConfigError } from "../../common/schema.js";

const sources = [
  // A +-20 % mass (nominal 0.1 kg) and a 0-10 ms latency (nominal 0).
  { name: "links.pendulum.mass", nominal: 0.1, low: 0.08, high: 0.12, distribution: "uniform" },
  { name: "actuators.arm.latency", nominal: 0, low: 0, high: 0.01, distribution: "uniform" },
  { name: "sensors.arm.offset", nominal: 0, low: -0.01, high: 0.01, distribution: "normal" },
];
const cfg = (o: object = {}) => adrConfigSchema.parse({ enabled: true, bufferSize: 4, step: 0.25, limit: 1.5, ...o }, "adr");

/** Feeds `rounds` full buffers of outcomes to every boundary from a success function of the boundary's value. */
function drive(adr: Adr, success: (k: number, value: number) => boolean, rounds: number): void {
  for (let r = 0; r < rounds; r++) {
    adr.ranges().forEach((g, k) => {
      for (const high of [false, true]) for (let i = 0; i < 4; i++) adr.record(k, high, success(k, high ? g.high : g.low) ? 1 : 0);
    });
  }
}

test("ADR starts at nominal, covers only uniform per-episode entries, widens where the policy succeeds and stops at the hard limits", () => {
  const adr = new Adr(cfg(), sources);
  assert.deepEqual(adr.ranges(), [
    { target: "links.pendulum.mass", low: 0.1, high: 0.1 },
    { target: "actuators.arm.latency", low: 0, high: 0 },
  ]);
  drive(adr, () => true, 1);
  const [m1, l1] = adr.ranges();
  assert.ok(Math.abs(m1!.low - 0.095) < 1e-12 && Math.abs(m1!.high - 0.105) < 1e-12, JSON.stringify(m1)); // step 0.25 x half-range 0.02
  assert.equal(l1!.low, 0); // the latency's range does not cross zero
  assert.ok(Math.abs(l1!.high - 0.00125) < 1e-12);
  drive(adr, () => true, 50);
  const [m, l] = adr.ranges();
  // Hard limits: the task range widened 1.5x about its centre (+-30 % of the mass; latency 0..12.5 ms).
  assert.ok(Math.abs(m!.low - 0.07) < 1e-12 && Math.abs(m!.high - 0.13) < 1e-12, JSON.stringify(m));
  assert.ok(Math.abs(l!.high - 0.0125) < 1e-12 && l!.low === 0, JSON.stringify(l));
  assert.deepEqual(adr.reach().map((r) => [r.low, r.high].map((x) => Math.round(x * 1e9) / 1e9)), [[1, 1], [1, 1]]);
});

test("ADR settles where the success function turns, narrows on failure, and never passes nominal", () => {
  // The policy succeeds while the mass stays within +-12 % and the latency below 4 ms.
  const ok = (k: number, v: number) => (k === 0 ? Math.abs(v - 0.1) <= 0.012 + 1e-12 : v <= 0.004 + 1e-12);
  const adr = new Adr(cfg(), sources);
  drive(adr, ok, 40);
  const [m, l] = adr.ranges();
  // A boundary one step past the edge fails and comes back: it ends within one step (0.005 kg, 1.25 ms) of the edge.
  assert.ok(m!.high >= 0.112 - 0.005 - 1e-12 && m!.high <= 0.112 + 0.005 + 1e-12, `mass high ${m!.high}`);
  assert.ok(m!.low <= 0.088 + 0.005 + 1e-12 && m!.low >= 0.088 - 0.005 - 1e-12, `mass low ${m!.low}`);
  assert.ok(l!.high <= 0.004 + 0.00125 + 1e-12 && l!.high >= 0.004 - 0.00125 - 1e-12, `latency high ${l!.high}`);
  // Nothing succeeds any more: every boundary narrows back to nominal and stays there.
  drive(adr, () => false, 40);
  assert.deepEqual(adr.ranges().map((g) => [g.low, g.high]), [[0.1, 0.1], [0, 0]]);
  // In between the thresholds (success 0.5 < p < 0.8): no move.
  const mid = new Adr(cfg({ initial: 1 }), sources);
  const before = mid.ranges();
  for (let i = 0; i < 8; i++) mid.record(0, true, i % 4 === 3 ? 0 : 1); // p = 3/4, twice
  assert.deepEqual(mid.ranges(), before);
});

test("ADR state round-trips, and a wrong state is refused by field", () => {
  const a = new Adr(cfg(), sources);
  drive(a, () => true, 3);
  a.record(0, true, 1); // a partly filled buffer travels too
  const b = new Adr(cfg(), sources);
  b.setState(JSON.parse(JSON.stringify(a.getState())));
  assert.deepEqual(b.getState(), a.getState());
  const bad = a.getState();
  bad.entries[0]!.high = 1; // beyond the hard limit
  assert.throws(() => b.setState(bad, "checkpoint.adr"), (e: unknown) => e instanceof ConfigError && e.path === "checkpoint.adr.entries[0].high");
  assert.throws(() => new Adr(cfg({ targets: ["sensors.arm.offset"] }), sources), /normal distribution/);
  assert.throws(() => new Adr(cfg({ targets: ["links.arm.mass"] }), sources), (e: unknown) => e instanceof ConfigError && e.path === "adr.targets[0]");
});

test("the vector env draws ADR ranges, pins boundaries with probability p_b and reports which", async () => {
  const env = await LocalVecEnv.create({
    task: "pendulum",
    config: { episodeSeconds: 0.05 },
    seed: 3,
    numEnvs: 40,
    params: { kind: "adr", boundaryProb: 0.5, ranges: [{ target: "links.pendulum.mass", low: 0.045, high: 0.048 }, { target: "joints.pendulum_joint.damping", low: 0.001, high: 0.001 }] },
  });
  try {
    const idx = env.environments[0]!.setup.table.indexOf("links.pendulum.mass");
    env.resetSync();
    const values = env.environments.map((e) => e.currentParams[idx]!);
    let episodes = env.stepSync(new Float32Array(40)).episodes;
    for (let i = 0; i < 10 && episodes.length < 40; i++) episodes = episodes.concat(env.stepSync(new Float32Array(40)).episodes);
    assert.equal(episodes.length, 40);
    const pinned = episodes.filter((e) => e.metrics.adrBoundary! >= 0);
    assert.ok(pinned.length >= 10 && pinned.length <= 30, `${pinned.length} of 40 episodes pinned a boundary`);
    for (const e of episodes) {
      const v = values[e.env]!;
      if (e.metrics.adrBoundary === 0) assert.equal(v, 0.045);
      else if (e.metrics.adrBoundary === 1) assert.equal(v, 0.048);
      else assert.ok(v >= 0.045 && v <= 0.048, `mass ${v}`);
    }
    // New ranges apply from each env's next episode.
    env.setParamSourceSync({ kind: "task" });
    env.resetSync();
    assert.ok(env.environments.some((e) => e.currentParams[idx]! > 0.048));
  } finally {
    await env.close();
  }
});

test("worker vector envs take ADR's new ranges between rollouts", async () => {
  const { WorkerVecEnv } = await import("../../sim/env/worker-vec-env.js");
  const env = await WorkerVecEnv.create({ task: "pendulum", config: { episodeSeconds: 0.03 }, seed: 5, numEnvs: 4, workers: 2 });
  try {
    await env.reset();
    await env.setParamSource({ kind: "adr", boundaryProb: 1, ranges: [{ target: "links.pendulum.mass", low: 0.046, high: 0.046 }] });
    let episodes: { metrics: Record<string, number> }[] = [];
    // The running episodes finish with the task's parameters (no ADR report); the next ones pin a boundary.
    for (let i = 0; i < 20; i++) episodes = episodes.concat((await env.step(new Float32Array(4))).episodes);
    const first = episodes.slice(0, 4), later = episodes.slice(4);
    assert.ok(first.every((e) => e.metrics.adrBoundary === undefined));
    assert.ok(later.length >= 4 && later.every((e) => e.metrics.adrBoundary === 0 || e.metrics.adrBoundary === 1), JSON.stringify(later.map((e) => e.metrics.adrBoundary)));
  } finally {
    await env.close();
  }
});
