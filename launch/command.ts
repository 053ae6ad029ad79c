import type { CommandSpec, ParsedArgs } from "./args.js";

/** Output sinks, so commands can be run and checked in-process by tests. */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal (progress bars draw only then). */
  interactive: boolean;
  /** Aborted on SIGINT / SIGTERM; long jobs stop cleanly when it fires. */
  signal: AbortSignal;
}

export interface Command {
  spec: CommandSpec;
  /** Returns the process exit code. */
  run(args: ParsedArgs, io: CommandIO): Promise<number>;
}
