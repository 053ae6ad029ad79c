/**
 * Every benchmark of the project, by name. Each returns a flat JSON object of
 * figures measured in one run; ratios are taken against references measured
 * in the same run. `s2r bench <name> --json` runs one; `s2r bench all` (and
 * `npm run bench`) runs them all.
 */
export interface BenchEntry {
  name: string;
  summary: string;
  run: (opts: { quick: boolean; log: (line: string) => void }) => Promise<Record<string, unknown>>;
}

export const BENCHES: BenchEntry[] = [
  {
    name: "sim",
    summary: "Furuta control steps/s on one thread (every physics substep included), the analytic integrator in the same run, and a two-worker pool",
    run: async (o) => (await import("./sim.js")).benchSim(o),
  },
  {
    name: "log",
    summary: "Session-log cost per logged message, chunk close time and bytes/s at 500 Hz",
    run: async (o) => (await import("../robot/log/bench-session-log.js")).benchSessionLog(o),
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
];
