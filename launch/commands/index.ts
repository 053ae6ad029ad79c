import type { Command } from "../command.js";

/**
 * Every s2r subcommand: its name, one line for `s2r --help`, and a lazy loader
 * (so that `s2r --help` does not load Rapier, onnxruntime or serialport).
 * A command module exports `command: Command`; its spec's name and summary are
 * taken from here.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

export const COMMANDS: CommandEntry[] = [
  { name: "sim trace", summary: "Print the simulator's trajectory under a constant voltage (fidelity checks)", load: async () => (await import("./sim-trace.js")).command },
  { name: "sim params", summary: "List every parameter a task can randomize, with nominal values and ranges", load: async () => (await import("./sim-params.js")).command },
  { name: "bench", summary: "Run benchmarks and print their figures as JSON (sim, ...; all)", load: async () => (await import("./bench.js")).command },
];
