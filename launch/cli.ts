import { formatHelp, parseArgs, UsageError } from "./args.js";
import type { CommandIO } from "./command.js";
import { COMMANDS, type CommandEntry } from "./commands/index.js";
import { ConfigError } from "../common/schema.js";

function topHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "s2r: sim-to-real robot learning. Train in randomized simulation, export to ONNX, deploy to the robot, calibrate and fine-tune.",
    "",
    "Usage: s2r <command> [options]      s2r <command> --help for its options",
    "",
    "Commands:",
    ...COMMANDS.map((c) => "  " + c.name.padEnd(w) + c.summary),
    "",
  ].join("\n");
}

/** Longest registered command name that prefixes argv (commands have one or two words). */
function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    const entry = COMMANDS.find((c) => c.name === name);
    if (entry) return { entry, rest: argv.slice(words) };
  }
  return undefined;
}

export function defaultIO(): CommandIO & { dispose(): void } {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      process.stderr.write(`\ns2r: second ${sig}, exiting now\n`);
      process.exit(130);
    }
    process.stderr.write(`\ns2r: ${sig} received, stopping cleanly (again to force)\n`);
    controller.abort(new Error(sig));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    interactive: Boolean(process.stderr.isTTY),
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

export async function main(argv: string[], io: CommandIO = defaultIO()): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
      io.out(topHelp());
      return argv.length === 0 ? 2 : 0;
    }
    const found = findCommand(argv);
    if (!found) {
      const group = COMMANDS.filter((c) => c.name.startsWith(argv[0] + " "));
      if (group.length) {
        io.err(`s2r ${argv[0]}: expected one of: ${group.map((c) => c.name.split(" ")[1]).join(", ")}\n`);
      } else io.err(`s2r: unknown command ${JSON.stringify(argv[0])}; see s2r --help\n`);
      return 2;
    }
    const command = await found.entry.load();
    const spec = { ...command.spec, name: found.entry.name, summary: found.entry.summary };
    if (found.rest.includes("--help") || found.rest.includes("-h")) {
      io.out(formatHelp(spec));
      return 0;
    }
    return await command.run(parseArgs(spec, found.rest), io);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      io.err(`${e.message}\n`);
      return 2;
    }
    io.err(`s2r: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  } finally {
    (io as { dispose?: () => void }).dispose?.();
  }
}
