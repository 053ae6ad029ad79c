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
];
