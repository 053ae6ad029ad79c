import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../../common/rng.js";
import { createArena } from "../../policies/nn/index.js";
import { ActorCritic, PolicyStepper } from "../../policies/actor-critic.js";
import { exportCheckpoint } from "../../policies/export.js";
import { OnnxPolicy } from "../../policies/runtime/onnx-policy.js";
import { readManifest, verifyManifestAgainstOnnx } from "../../policies/manifest.js";
import { resolveTrainConfig } from "../../policies/runner.js";
import { LocalVecEnv } from "../../sim/env/local-vec-env.js";
import { setupTask } from "../../sim/env/sim-env.js";
import { getTask } from "../../sim/tasks/registry.js";
import type { Checkpoint } from "../../policies/checkpoint.js";

const STEPS = 1000;

for (const arch of ["mlp", "gru", "lstm"] as const) {
  for (const osi of ["none", "up"] as const) {
    test(`exported ${arch}${osi === "up" ? " + OSI" : ""} matches the training forward pass within 1e-5 over ${STEPS} steps`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "s2r-parity-"));
      // Short episodes so that the recorded rollout crosses an episode reset (states zeroed on both sides).
      const cfg = resolveTrainConfig("furuta", { task: { episodeSeconds: 4 }, policy: { arch, osi, hidden: 24, osiHidden: 16, actorLayers: [32], criticLayers: [16] } });
      const setup = setupTask(getTask("furuta"), cfg.task);
      const arena = createArena();
      const model = new ActorCritic(arena, setup.spec, cfg.policy, 17);
      // A non-trivial normalizer and weights large enough that the recurrent state matters.
      const rng = new Rng(4);
      const fake = new Float32Array(256 * setup.spec.numObs).map(() => rng.normal() * 3 + 0.5);
      model.obsNorm.update(fake, 256);
      for (const p of model.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = p.value[i]! * 3 + 0.05 * rng.normal();
      const ck: Checkpoint = {
        schema: 1, kind: "s2r-checkpoint", task: "furuta", config: cfg as unknown as Record<string, unknown>, configHash: "0".repeat(64), envSpec: setup.spec,
        privileged: setup.randomizer.privilegedRanges(), model: model.getState(), optimizer: {}, rng: [], progress: { update: 0, steps: 0, wallSeconds: 0, episodes: 0, successRate: 0, meanReturn: 0 }, savedAt: "",
      };
      const out = exportCheckpoint(ck, dir, join(dir, "policy.onnx"));
      verifyManifestAgainstOnnx(readManifest(out.manifest), out.onnx);
      const onnx = await OnnxPolicy.load(out.onnx, out.manifest);
      const stepper = new PolicyStepper(model, 1);
      const env = await LocalVecEnv.create({ task: "furuta", config: cfg.task, seed: 9, numEnvs: 1 });
      let { obs } = env.resetSync();
      let start = Uint8Array.of(1);
      let worst = 0, worstOsi = 0, resets = 0, inside = 0;
      for (let t = 0; t < STEPS; t++) {
        if (start[0]) onnx.reset();
        const mean = stepper.act(obs, start);
        const ref = Math.min(1, Math.max(-1, mean[0]!));
        if (Math.abs(mean[0]!) < 0.99) inside++;
        const r = onnx.step(obs);
        worst = Math.max(worst, Math.abs(r.action[0]! - ref));
        if (osi === "up") for (let k = 0; k < setup.spec.numPrivileged; k++) worstOsi = Math.max(worstOsi, Math.abs(r.osi![k]! - stepper.osiEstimate[k]!));
        // Drive the rollout with the policy plus exploration noise, as in training.
        const b = env.stepSync(Float32Array.of(ref + 0.3 * rng.normal()));
        obs = b.obs;
        start = Uint8Array.of(b.terminated[0]! | b.truncated[0]!);
        resets += start[0]!;
      }
      assert.ok(resets >= 1, "the rollout crossed an episode reset");
      assert.ok(inside > STEPS / 2, `only ${inside} of ${STEPS} actions were inside the clip range: the comparison would be vacuous`);
      assert.ok(worst <= 1e-5, `max |action difference| ${worst}`);
      assert.ok(worstOsi <= 1e-5, `max |OSI difference| ${worstOsi}`);
      onnx.dispose();
      await env.close();
      arena.dispose();
      rmSync(dir, { recursive: true, force: true });
    });
  }
}
