import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { UsageError } from "../args.js";
import type { Command } from "../command.js";
import { ConfigError } from "../../common/schema.js";
import type { ParamSourceSpec } from "../../sim/env/param-source.js";

/** Reads --params: nominal, randomized, or a JSON file of fixed values or of ranges. */
export async function paramSourceFromArg(arg: string): Promise<ParamSourceSpec> {
  if (arg === "nominal") return { kind: "nominal" };
  if (arg === "randomized") return { kind: "task" };
  const { readJsonFile } = await import("../../common/json-file.js");
  const { randomizationSpecSchema } = await import("../../sim/randomization/spec.js");
  const doc = readJsonFile(arg, { defaultValue: undefined, parse: (v) => v }) as Record<string, unknown>;
  if (doc && typeof doc === "object" && Array.isArray(doc.randomization)) {
    try {
      return { kind: "spec", spec: randomizationSpecSchema.parse(doc.randomization, "randomization") };
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(e.path, e.problem, arg);
      throw e;
    }
  }
  // Fixed values by parameter name: {"values": {...}}, or a sysid result whose "targets" map parameter names to values.
  const values = (doc?.targets ?? doc?.values) as Record<string, unknown> | undefined;
  if (values && typeof values === "object") {
    for (const [k, v] of Object.entries(values)) if (typeof v !== "number" || !Number.isFinite(v)) throw new ConfigError(`values.${k}`, `expected a number, got ${JSON.stringify(v)}`, arg);
    return { kind: "fixed", values: values as Record<string, number> };
  }
  throw new ConfigError("", 'expected {"randomization": [...]} (ranges), {"values": {...}} (fixed values) or a sysid params file', arg);
}

export const command: Command = {
  spec: {
    name: "eval",
    summary: "",
    positionals: "<DIR|policy.onnx>",
    options: {
      episodes: { kind: "integer", description: "episodes (one per environment)", default: 100, value: "N" },
      params: { kind: "string", description: "nominal | randomized | FILE.json (fixed values or ranges, e.g. sim/tasks/furuta/heldout.json)", default: "randomized", value: "P" },
      seed: { kind: "integer", description: "seed of the evaluation episodes", default: 12345, value: "N" },
      workers: { kind: "integer", description: "worker threads", default: 2, value: "N" },
      json: { kind: "boolean", description: 'print {"successRate", "episodes", "meanReturn", "osiError": {...}}' },
    },
  },
  async run(args, io) {
    const target = args.positionals[0];
    if (!target) throw new UsageError("s2r eval: give a run directory or a policy.onnx");
    if (!existsSync(target)) throw new UsageError(`s2r eval: ${target} does not exist`);
    const { evaluatePolicy, checkpointPolicy, onnxPolicy } = await import("../../policies/evaluate.js");
    const params = await paramSourceFromArg(args.options.params as string);
    const episodes = args.options.episodes as number;
    if (episodes < 1) throw new UsageError("s2r eval: --episodes must be >= 1");
    let task: string, taskConfig: unknown, make: Parameters<typeof evaluatePolicy>[0];
    if (statSync(target).isDirectory() && existsSync(join(target, "checkpoint.json"))) {
      const { readPolicyCheckpoint } = await import("../../policies/checkpoint.js");
      const { checkpoint } = readPolicyCheckpoint(target);
      task = checkpoint.task;
      taskConfig = (checkpoint.config as { task: unknown }).task;
      make = (n) => checkpointPolicy(checkpoint, n);
    } else {
      const onnx = statSync(target).isDirectory() ? join(target, "policy.onnx") : target;
      const manifestFile = join(dirname(onnx), "policy.json");
      const { readManifest } = await import("../../policies/manifest.js");
      const manifest = readManifest(manifestFile);
      task = manifest.task;
      const cfgFile = join(dirname(onnx), "config.json");
      const { readJsonFile } = await import("../../common/json-file.js");
      taskConfig = existsSync(cfgFile) ? (readJsonFile(cfgFile, { defaultValue: undefined, parse: (v) => v }) as { task?: unknown }).task : undefined;
      if (taskConfig === undefined) io.err(`s2r eval: no config.json next to ${onnx}; using the ${task} task's defaults\n`);
      make = () => onnxPolicy(onnx, manifestFile, episodes);
    }
    const r = await evaluatePolicy(make, {
      task,
      taskConfig,
      episodes,
      seed: args.options.seed as number,
      params,
      workers: args.options.workers as number,
      signal: io.signal,
      onEpisode: io.interactive && !args.options.json ? (d, n) => io.err(`\r  ${d}/${n} episodes`) : undefined,
    });
    if (args.options.json) io.out(JSON.stringify({ successRate: r.successRate, episodes: r.episodes, meanReturn: r.meanReturn, osiError: r.osiError }) + "\n");
    else {
      io.out(`${task}: success ${(r.successRate * 100).toFixed(1)} % of ${r.episodes} episodes (${args.options.params}), mean return ${r.meanReturn.toFixed(2)}\n`);
      for (const [k, v] of Object.entries(r.osiError)) io.out(`  OSI error ${k}: ${v.toFixed(3)}\n`);
    }
    return 0;
  },
};
