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
    const rows: { name: string; nominal: number | string; unit: string; stage: string; randomized: (number | string)[] | null; when?: string }[] = setup.table.entries.map((e) => {
      const r = ranges.get(e.name);
      return { name: e.name, nominal: e.nominal, unit: e.unit, stage: e.stage, randomized: r ? [r.low, r.high] : null };
    });
    // Visual targets (what cameras see): every entry of the spec that names one, per episode or per frame.
    const visualEntries = new Map(setup.config.randomization.filter((e) => setup.visualTable.has(e.target)).map((e) => [e.target, e]));
    for (const p of setup.visualTable.entries) {
      const e = visualEntries.get(p.name);
      const randomized = !e ? null : e.distribution === "choice" ? e.choices! : e.distribution === "normal" ? [e.mean ?? 0, e.std!] : [e.low!, e.high!];
      rows.push({ name: p.name, nominal: p.choices ? p.choices[p.nominal]! : p.nominal, unit: p.unit, stage: "visual", randomized, ...(e ? { when: e.when === "step" ? "frame" : "episode" } : {}) });
    }
    if (args.options.json) {
      io.out(JSON.stringify(rows) + "\n");
      return 0;
    }
    const w = Math.max(...rows.map((r) => r.name.length)) + 2;
    io.out(`${"parameter".padEnd(w)}${"nominal".padEnd(14)}${"unit".padEnd(12)}${"stage".padEnd(9)}randomized (per episode unless marked)\n`);
    for (const r of rows) {
      const v = r.randomized;
      const range = !v ? "" : typeof v[0] === "string" ? (v as string[]).join(" | ") : `${fmt(v[0] as number)} .. ${fmt(v[1] as number)}`;
      const nominal = typeof r.nominal === "string" ? r.nominal : fmt(r.nominal);
      io.out(`${r.name.padEnd(w)}${nominal.padEnd(14)}${r.unit.padEnd(12)}${r.stage.padEnd(9)}${range}${r.when === "frame" ? "  (per frame)" : ""}\n`);
    }
    return 0;
  },
};

function fmt(x: number): string {
  return Math.abs(x) >= 1e-3 || x === 0 ? String(Number(x.toPrecision(5))) : x.toExponential(3);
}
