import { join } from "node:path";
import { UsageError } from "../args.js";
import type { Command } from "../command.js";

export const command: Command = {
  spec: {
    name: "export",
    summary: "",
    positionals: "<run DIR>",
    options: {
      out: { kind: "string", description: "ONNX file to write (default DIR/policy.onnx); policy.json is written next to it", value: "FILE" },
    },
    details: "A `vision train` run (DIR/vision-checkpoint.json) is exported to DIR/vision.onnx + DIR/vision.json (raw uint8 image in, sin/cos per joint out). For a policy: the ONNX holds the observation normalization, the OSI network and the policy; recurrent state is explicit (h_in/h_out, c_in/c_out). policy.json is the manifest deploy reads. Exports DIR/best-checkpoint.json (the best periodic deterministic evaluation during training) when the run kept one, else DIR/checkpoint.json.",
  },
  async run(args, io) {
    const dir = args.positionals[0];
    if (!dir) throw new UsageError("s2r export: give the run directory of a training run");
    const { isVisionRun, exportVisionRun } = await import("../../policies/perception/vision-run-export.js");
    if (isVisionRun(dir)) {
      if (args.options.out !== undefined) throw new UsageError("s2r export: --out is for policies; a vision run is exported to DIR/vision.onnx and DIR/vision.json");
      const r = exportVisionRun(dir);
      io.out(`${r.onnx}\n${r.manifest}\n`);
      return 0;
    }
    const { readPolicyCheckpoint } = await import("../../policies/checkpoint.js");
    const { exportCheckpoint } = await import("../../policies/export.js");
    const { checkpoint } = readPolicyCheckpoint(dir);
    const r = exportCheckpoint(checkpoint, dir, (args.options.out as string | undefined) ?? join(dir, "policy.onnx"));
    const m = r.manifestData;
    io.out(`${r.onnx}\n${r.manifest}\n`);
    io.err(`${m.task} policy: ${m.observation.length} observations -> ${m.action.length} action(s) every ${m.controlPeriodSec * 1000} ms; recurrent ${m.recurrent.kind} (h ${m.recurrent.hInSize}${m.recurrent.cInSize ? `, c ${m.recurrent.cInSize}` : ""})${m.osi ? `; OSI estimates ${m.osi.names.length} parameters` : ""}; sha256 ${m.onnx.sha256.slice(0, 12)}...\n`);
    return 0;
  },
};
