import { UsageError } from "../args.js";
import type { Command } from "../command.js";

/** `s2r sim render <task>`: PNG frames of the robot as its camera sees it, and a contact sheet of them. */
export const command: Command = {
  spec: {
    name: "sim render",
    summary: "",
    positionals: "<task>",
    options: {
      out: { kind: "string", description: "output folder (created)", value: "DIR" },
      frames: { kind: "number", description: "frames to render", default: 16, value: "N" },
      randomized: { kind: "boolean", description: "draw the task's visual randomization (a new look every frame)" },
      seed: { kind: "number", description: "random seed", default: 1, value: "S" },
      size: { kind: "string", description: "image size, e.g. 96x96 (the native image centre-cropped and resized; default: the camera's native size)", value: "WxH" },
      camera: { kind: "string", description: "camera name (default: the robot's first)", value: "NAME" },
      config: { kind: "string", description: "task config file (JSON) to apply over the defaults", value: "FILE" },
    },
    details: "The robot sweeps its joints (arm over its whole travel, pendulum through a full turn) at the camera's frame rate, so motion blur shows. Writes DIR/frame-NNN.png and DIR/contact-sheet.png.",
  },
  async run(args, io) {
    const out = args.options.out as string | undefined;
    if (!out) throw new UsageError("s2r sim render: --out DIR is required");
    const frames = args.options.frames as number;
    if (!(Number.isInteger(frames) && frames >= 1)) throw new UsageError(`s2r sim render: --frames must be an integer >= 1, got ${frames}`);
    const seed = args.options.seed as number;
    if (!Number.isInteger(seed)) throw new UsageError(`s2r sim render: --seed must be an integer, got ${seed}`);
    let size: { width: number; height: number } | undefined;
    if (args.options.size !== undefined) {
      const m = /^(\d+)x(\d+)$/.exec(args.options.size as string);
      if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`s2r sim render: --size expects WxH, e.g. 96x96, got ${JSON.stringify(args.options.size)}`);
      size = { width: Number(m[1]), height: Number(m[2]) };
    }
    const { getTask } = await import("../../sim/tasks/registry.js");
    const { setupTask } = await import("../../sim/env/sim-env.js");
    const { readJsonFile } = await import("../../common/json-file.js");
    const { CameraStream } = await import("../../sim/render/camera-stream.js");
    const { sweepPose } = await import("../../sim/render/sweep.js");
    const { encodePng, contactSheet } = await import("../../sim/render/png.js");
    const { movingJoints } = await import("../../sim/urdf/model.js");
    const { Progress } = await import("../../common/progress.js");
    const { mkdirSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");

    const task = getTask(args.positionals[0] ?? "furuta");
    const partial = args.options.config ? readJsonFile(args.options.config as string, { defaultValue: undefined, parse: (v) => v }) : {};
    const setup = setupTask(task, task.configSchema.parse(partial, "config"));
    if (setup.config.robot.cameras.length === 0) throw new UsageError(`s2r sim render: task ${task.name} has no camera (robot.cameras in its config)`);
    const randomized = Boolean(args.options.randomized);
    const stream = new CameraStream(setup, { camera: args.options.camera as string | undefined, ...size, randomized, seed, envIndex: 0 });
    try {
      mkdirSync(out, { recursive: true });
      const joints = movingJoints(setup.model);
      const q = new Float64Array(joints.length), qd = new Float64Array(joints.length);
      const images: Uint8Array[] = [];
      const { width, height } = stream.intrinsics;
      const channels = stream.renderer.channels;
      const progress = new Progress({ total: frames, label: "render", unit: "frames", stream: { write: (t) => io.err(t) }, interactive: io.interactive });
      for (let k = 0; k < frames; k++) {
        if (io.signal.aborted) break;
        if (randomized && k > 0) stream.beginEpisode();
        sweepPose(joints, k, frames, stream.camera.frameRate, q, qd);
        const img = new Uint8Array(stream.frameBytes);
        stream.frame(q, qd, img);
        writeFileSync(join(out, `frame-${String(k).padStart(3, "0")}.png`), encodePng(img, width, height, channels));
        images.push(img);
        progress.update(k + 1);
      }
      progress.done();
      const sheet = contactSheet(images, width, height, channels, Math.ceil(Math.sqrt(images.length)));
      writeFileSync(join(out, "contact-sheet.png"), encodePng(sheet.pixels, sheet.width, sheet.height, 3));
      io.out(`${images.length} frames of ${width}x${height} ${stream.renderer.encoding} (camera ${stream.camera.name}${randomized ? ", randomized" : ""}) in ${out}; contact sheet: ${join(out, "contact-sheet.png")}\n`);
    } finally {
      stream.dispose();
    }
    return 0;
  },
};
