/**
 * Every benchmark of the project, by name. Each returns a flat JSON object of
 * figures measured in one run; ratios are taken against references measured
 * in the same run. `s2r bench <name> --json` runs one; `s2r bench all` (and
 * `npm run bench`) runs them all.
 */
export interface BenchEntry {
  name: string;
  summary: string;
  /** `images`: `s2r bench log --images` measures logging camera frames instead; `seeds`: `s2r bench <name> --seeds N`, for the benchmarks that repeat over seeds (train); `minutes`: how long soak runs. */
  run: (opts: { quick: boolean; log: (line: string) => void; images?: boolean; seeds?: number; minutes?: number }) => Promise<Record<string, unknown>>;
}

export const BENCHES: BenchEntry[] = [
  {
    name: "sim",
    summary: "Furuta control steps/s on one thread (every physics substep included), the analytic integrator in the same run, and a two-worker pool",
    run: async (o) => (await import("./sim.js")).benchSim(o),
  },
  {
    name: "log",
    summary: "Session-log cost per logged message, chunk close time and bytes/s at 500 Hz; --images: camera frames (96x96, 320x240 rgb8, raw and PNG) in a 100 Hz loop",
    run: async (o) => (o.images ? (await import("../robot/log/bench-image-log.js")).benchImageLog(o) : (await import("../robot/log/bench-session-log.js")).benchSessionLog(o)),
  },
  {
    name: "image",
    summary: "Camera frame to network input (decode the ROS encoding, centred crop, resize to 96x96, intrinsics) per frame: p50/p99 ms, against one copy of the frame",
    run: async (o) => (await import("./image.js")).benchImage(o),
  },
  {
    name: "ros2",
    summary: "State->command round trips at 500 Hz over loopback (Cyclone transport <-> C echo peer): p50/p99 us, lost",
    run: async (o) => (await import("./ros2.js")).benchRos2(o),
  },
  {
    name: "physics",
    summary: "Rapier steps/s: single vs batched worlds, fidelity vs fast settings",
    run: async (o) => (await import("./physics-probe.js")).benchPhysics(o),
  },
  {
    name: "bus",
    summary: "Dynamixel Sync Read (2 IDs x 8 B) + Sync Write round trip against s2r emulate over a pty: p50/p99 us, with the pty+socat echo baseline",
    run: async (o) => (await import("./bus.js")).benchBus(o),
  },
  {
    name: "loop",
    summary: "Control loop at 200 Hz for 60 s (quick 5 s) with an ONNX policy against s2r emulate over a pty: tick jitter p50/p99 us, deadline misses",
    run: async (o) => (await import("./loop.js")).benchLoop(o),
  },
  {
    name: "train",
    summary: "Seconds for the default Furuta config to reach >= 90 % success on 200 randomized episodes (2 cores); --seeds N: per seed, time to 90 % and final success after twice the 10-minute bar",
    run: async (o) => (await import("./train.js")).benchTrain(o),
  },
  {
    name: "render",
    summary: "Furuta camera frames/s on one thread at 64x64 and 96x96, nominal and with the full visual randomization (motion blur included)",
    run: async (o) => (await import("./render.js")).benchRender(o),
  },
  {
    name: "osi",
    summary: "OSI identification vs history: a fresh OSI trained on rollouts of the shipped Furuta policy with BPTT windows of 32/128/512 steps; mean error (half-ranges) on Jr, mp, Lp, Rm, km, latency",
    run: async (o) => (await import("./osi.js")).benchOsi(o),
  },
  {
    name: "nn",
    summary: "Matrix kernel GFLOP/s (WebAssembly SIMD vs TypeScript fallback, same run) and GRU policy forward+backward time",
    run: async (o) => (await import("./nn.js")).benchNn(o),
  },
  {
    name: "policy",
    summary: "Batch-1 step latency of the shipped Furuta policy, onnxruntime-node and the in-process core: back to back and at 100/200/500 Hz as the loop steps it (cold and warmed before each tick)",
    run: async (o) => (await import("./policy.js")).benchPolicy(o),
  },
  {
    name: "robustness",
    summary: "With s2r train loading both cores, against s2r emulate --bus-latency p50=1ms,p99=4ms,max=15ms on a drawn unit and the rig page's two corners: calibrate N tries, deploy N episodes, sysid record; late cycles by cause, longest stale state",
    run: async (o) => (await import("./robustness.js")).benchRobustness(o),
  },
  {
    name: "soak",
    summary: "Deploy of the shipped policy against s2r emulate episode after episode for --minutes (default 60, quick 2): RSS, V8 heap and WebAssembly growth per minute after warm-up, loop p99 first vs last 10 min, every episode in the log",
    run: async (o) => (await import("./soak.js")).benchSoak(o),
  },
  {
    name: "deploy",
    summary: "Shipped Furuta policy deployed over a pty to the real-time emulator with hidden parameters: successes of 10 episodes",
    run: async (o) => (await import("./deploy.js")).benchDeploy(o),
  },
  {
    name: "sysid",
    summary: "System identification on 20 s of simulated Furuta data: per-parameter errors, held-out error ratio, fit seconds (one thread)",
    run: async (o) => (await import("./sysid.js")).benchSysid(o),
  },
  {
    name: "ray",
    summary: "Rollout steps/s with 1 and 2 Ray workers (2 single-CPU nodes on this machine) against the local worker pool, and per-update weight/trajectory bytes and transfer ms (needs scripts/install-ray.sh)",
    run: async (o) => (await import("./ray.js")).benchRay(o),
  },
  {
    name: "calibration",
    summary: "s2r calibrate, sysid record and sysid fit against the real-time emulator with hidden parameters: zero errors (counts), per-parameter errors, held-out error ratio",
    run: async (o) => (await import("./calibration.js")).benchCalibration(o),
  },
];
