import { UsageError } from "../args.js";
import type { Command } from "../command.js";

/** `s2r vision record-sim <task>`: a simulated camera session (MCAP) with a chosen look, for `vision eval`. */
export const command: Command = {
  spec: {
    name: "vision record-sim",
    summary: "",
    positionals: "<task>",
    options: {
      out: { kind: "string", description: "MCAP file to write", value: "FILE" },
      look: { kind: "string", description: "novel: a look outside the training randomization (brighter light, dark background, harsher tone curve, more noise and blur, camera moved); training: the task's own randomization", default: "novel", value: "novel|training" },
      frames: { kind: "integer", description: "camera frames", default: 300, value: "N" },
      seed: { kind: "integer", description: "random seed", default: 7, value: "S" },
      config: { kind: "string", description: "task config file (JSON), as given to training's task section", value: "FILE" },
    },
    details: "Writes sensor_msgs/Image + CameraInfo on /camera and /joint_states at 100 Hz while the robot sweeps its joints, as a real camera session would (s2r record --ros2). Score a model on it with `s2r vision eval <model> FILE`.",
  },
  async run(args, io) {
    const out = args.options.out as string | undefined;
    if (!out) throw new UsageError("s2r vision record-sim: --out FILE is required");
    const look = args.options.look as string;
    if (look !== "novel" && look !== "training") throw new UsageError(`s2r vision record-sim: --look must be novel or training, got ${JSON.stringify(look)}`);
    const { readJsonFile } = await import("../../common/json-file.js");
    const { recordSimCamera } = await import("../../calibration/vision/sim-camera-recording.js");
    const taskConfig = args.options.config ? readJsonFile(args.options.config as string, { defaultValue: undefined, parse: (v) => v }) : {};
    const r = await recordSimCamera(out, { task: args.positionals[0] ?? "furuta", taskConfig, look, frames: args.options.frames as number, seed: args.options.seed as number });
    io.out(`${out}: ${r.frames} frames of camera ${r.camera} (${look} look) with /joint_states\n`);
    return 0;
  },
};
