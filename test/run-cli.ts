import { main } from "../launch/cli.js";

/** Runs `s2r <argv>` in-process, collecting what it prints. */
export async function runCli(argv: string[], signal = new AbortController().signal): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), interactive: false, signal });
  return { code, out, err };
}
