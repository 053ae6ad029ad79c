import { UsageError } from "../args.js";
import type { Command } from "../command.js";
import { BENCHES } from "../../bench/registry.js";

export const command: Command = {
  spec: {
    name: "bench",
    summary: "",
    positionals: "<name|all>",
    options: {
      json: { kind: "boolean", description: "print one JSON object (with `all`: one object keyed by benchmark)" },
      quick: { kind: "boolean", description: "shorter runs (less precise); for smoke tests" },
      images: { kind: "boolean", description: "log: measure logging camera frames (s2r bench log --images)" },
      seeds: { kind: "integer", description: "repeat over seeds 1..N (train)", value: "N" },
      minutes: { kind: "number", value: "M", description: "soak: minutes to run (default 60; --quick 2)" },
    },
    details: "Benchmarks:\n" + BENCHES.map((b) => `  ${b.name.padEnd(8)} ${b.summary}`).join("\n"),
  },
  async run(args, io) {
    const name = args.positionals[0];
    if (!name) throw new UsageError(`s2r bench: name a benchmark (${BENCHES.map((b) => b.name).join(", ")}) or all`);
    const chosen = name === "all" ? BENCHES : BENCHES.filter((b) => b.name === name);
    if (chosen.length === 0) throw new UsageError(`s2r bench: unknown benchmark ${JSON.stringify(name)}; known: ${BENCHES.map((b) => b.name).join(", ")}, all`);
    const quick = Boolean(args.options.quick);
    const results: Record<string, unknown> = {};
    let failed = false;
    for (const b of chosen) {
      io.err(`bench ${b.name}: running...\n`);
      try {
        results[b.name] = await b.run({ quick, images: Boolean(args.options.images), minutes: args.options.minutes as number | undefined, log: (l) => io.err(`  ${l}\n`), ...(args.options.seeds !== undefined ? { seeds: args.options.seeds as number } : {}) });
      } catch (e) {
        failed = true;
        results[b.name] = { error: (e as Error).message };
        io.err(`bench ${b.name}: failed: ${(e as Error).message}\n`);
      }
    }
    const out = name === "all" ? results : results[name];
    if (args.options.json) io.out(JSON.stringify(out) + "\n");
    else io.out(JSON.stringify(out, null, 2) + "\n");
    return failed ? 1 : 0;
  },
};
