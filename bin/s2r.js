#!/usr/bin/env node
// Entry point of the `s2r` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
const cli = fileURLToPath(new URL("../dist/launch/cli.js", import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write(`s2r: ${cli} is missing; run \`npm install\` (or \`npm run build\`) in the s2r folder first.\n`);
  process.exit(2);
}
const { main } = await import(cli);
process.exitCode = await main(process.argv.slice(2));
