import type { Command } from "../command.js";

/** `s2r sim params <task>`: every parameter randomization can target, with nominal values and the task's ranges. */
export const command: Command = {
  spec: {
    name: "sim params",
    summary: "",
    positionals: "<task>",
    options: {
      config: { kind: "string", description: "task config file (JSON) to apply over the defaults", value: "FILE" },
      json: { kind: "boolean", description: "print JSON" },
    },
  },
  async run(args, io) {
    const { getTask } = await import("../../sim/tasks/registry.js");
    const { setupTask } = await import("../../sim/env/sim-env.js");
    const { readJsonFile } = await import("../../common/json-file.js");
    const task = getTask(args.positionals[0] ?? "furuta");
    const partial = args.options.config ? readJsonFile(args.options.config as string, { defaultValue: undefined, parse: (v) => v }) : {};
    const setup = setupTask(task, task.configSchema.parse(partial, "config"));
    const ranges = new Map(setup.randomizer.privilegedRanges().map((r) => [r.name, r]));
    const rows = setup.table.entries.map((e) => {
      const r = ranges.get(e.name);
      return { name: e.name, nominal: e.nominal, unit: e.unit, stage: e.stage, randomized: r ? [r.low, r.high] : null };
    });
    if (args.options.json) {
      io.out(JSON.stringify(rows) + "\n");
      return 0;
    }
    const w = Math.max(...rows.map((r) => r.name.length)) + 2;
    io.out(`${"parameter".padEnd(w)}${"nominal".padEnd(14)}${"unit".padEnd(12)}${"stage".padEnd(9)}randomized per episode\n`);
    for (const r of rows) {
      const range = r.randomized ? `${fmt(r.randomized[0]!)} .. ${fmt(r.randomized[1]!)}` : "";
      io.out(`${r.name.padEnd(w)}${fmt(r.nominal).padEnd(14)}${r.unit.padEnd(12)}${r.stage.padEnd(9)}${range}\n`);
    }
    return 0;
  },
};

function fmt(x: number): string {
  return Math.abs(x) >= 1e-3 || x === 0 ? String(Number(x.toPrecision(5))) : x.toExponential(3);
}
