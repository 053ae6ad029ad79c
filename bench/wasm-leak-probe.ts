/**
 * Run as a child process by bench/sim.ts: measures Rapier's WebAssembly memory
 * growth per reset for our reset path (rebuild + setState) and for Rapier's
 * own restoreSnapshot, which is known to leak. Prints one JSON line.
 */
import { captureWasmMemories } from "../test/sim/wasm-memory.js";

const wasmBytes = captureWasmMemories();
const { SimEnv, setupTask } = await import("../sim/env/sim-env.js");
const { getTask } = await import("../sim/tasks/registry.js");
const { furutaConfigSchema } = await import("../sim/tasks/furuta/config.js");
const { loadRapier } = await import("../sim/physics/rapier.js");

const N = Number(process.argv[2] ?? 10000);
const setup = setupTask(getTask("furuta"), furutaConfigSchema.defaults());
const env = await SimEnv.create(setup, 0, 1);
const obs = new Float32Array(setup.spec.numObs), priv = new Float32Array(setup.spec.numPrivileged), act = new Float32Array(1);
const ours = (n: number) => {
  for (let i = 0; i < n; i++) {
    env.reset(obs, 0, priv, 0);
    env.step(act, 0, obs, 0);
  }
};
ours(500);
let before = wasmBytes();
ours(N);
const oursBytes = wasmBytes() - before;
env.dispose();

const R = await loadRapier();
const world = new R.World({ x: 0, y: 0, z: -9.81 });
const a = world.createRigidBody(R.RigidBodyDesc.fixed());
const b = world.createRigidBody(R.RigidBodyDesc.dynamic().setAdditionalMassProperties(0.1, { x: 0, y: 0, z: 0 }, { x: 1e-4, y: 1e-4, z: 1e-4 }, { w: 1, x: 0, y: 0, z: 0 }));
world.createImpulseJoint(R.JointData.revolute({ x: 0, y: 0, z: 0 }, { x: 0.1, y: 0, z: 0 }, { x: 1, y: 0, z: 0 }), a, b, true);
const snap = world.takeSnapshot();
const restore = (n: number) => {
  for (let i = 0; i < n; i++) {
    const w = R.World.restoreSnapshot(snap);
    w.step();
    w.free();
  }
};
restore(200);
before = wasmBytes();
restore(N);
const snapshotBytes = wasmBytes() - before;
world.free();
process.stdout.write(JSON.stringify({ resets: N, resetWasmBytesPerReset: oursBytes / N, restoreSnapshotWasmBytesPerReset: snapshotBytes / N }) + "\n");
