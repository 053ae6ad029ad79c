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
  { name: "sim render", summary: "Write PNG frames of the robot as its camera sees it (optionally randomized) and a contact sheet", load: async () => (await import("./sim-render.js")).command },
  { name: "sim trace", summary: "Print the simulator's trajectory under a constant voltage (fidelity checks)", load: async () => (await import("./sim-trace.js")).command },
  { name: "sim params", summary: "List every parameter a task can randomize, with nominal values and ranges", load: async () => (await import("./sim-params.js")).command },
  { name: "train", summary: "Train a policy in randomized simulation (recurrent PPO, online system identification)", load: async () => (await import("./train.js")).command },
  { name: "sweep", summary: "Run many trainings (a grid of config values or N seeds) here, one per core, or on Ray Tune; a results table across trials", load: async () => (await import("./sweep.js")).command },
  { name: "eval", summary: "Evaluate a run or an exported policy in simulation (nominal, randomized or held-out dynamics)", load: async () => (await import("./eval.js")).command },
  { name: "export", summary: "Export a trained policy to ONNX with its manifest (policy.json)", load: async () => (await import("./export.js")).command },
  { name: "bench", summary: "Run benchmarks and print their figures as JSON (sim, ...; all)", load: async () => (await import("./bench.js")).command },
  { name: "record", summary: "Record ROS 2 topics (camera images, joint states) into an MCAP file, as durable as a session log", load: async () => (await import("./record.js")).command },
  { name: "vision train", summary: "Train the perception network (camera frames -> joint angles) on randomized renders made during training", load: async () => (await import("./vision-train.js")).command },
  { name: "vision record-sim", summary: "Write a simulated camera session (MCAP: images, camera_info, joint states) with a look outside the training randomization, for vision eval", load: async () => (await import("./vision-record-sim.js")).command },
  { name: "vision eval", summary: "Angle error of a perception model on a recording labelled by encoders, and its camera_info checked against the model's", load: async () => (await import("./vision-eval.js")).command },
  { name: "log summary", summary: "Summarize a session log (.mcap): kind, metadata, duration, message rates, events, loop timing, truncation", load: async () => (await import("./log-summary.js")).command },
  { name: "dxl scan", summary: "Ping every ID on a Dynamixel bus and list the devices that answer", load: async () => (await import("./dxl-scan.js")).command },
  { name: "dxl read", summary: "Read a Dynamixel register by name (e.g. present_position) and print it with its unit", load: async () => (await import("./dxl-read.js")).command },
  { name: "dxl write", summary: "Write a Dynamixel register by name (raw counts), sent once", load: async () => (await import("./dxl-write.js")).command },
  { name: "dxl doctor", summary: "Check what makes a Dynamixel bus slow or flaky (latency timer, return delay, baud, round trip, real-time, busy CPUs) and how to fix it", load: async () => (await import("./dxl-doctor.js")).command },
  { name: "ros2 doctor", summary: "Which ROS 2 transport (rclnodejs or Cyclone DDS) works here, and what to install for the others", load: async () => (await import("./ros2-doctor.js")).command },
  { name: "deploy", summary: "Run a policy (ONNX + policy.json) on a rig for N episodes, with safety layer, watchdog and a session log", load: async () => (await import("./deploy.js")).command },
  { name: "emulate", summary: "Serve a rig's Dynamixel bus on a pseudo-terminal, backed by the simulator in real time", load: async () => (await import("./emulate.js")).command },
  { name: "calibrate", summary: "Find a rig's encoder zeros: slow moves to the arm's hard stops (stall detection), the pendulum averaged hanging still", load: async () => (await import("./calibrate.js")).command },
  { name: "sysid record", summary: "Record a safe excitation of a calibrated rig (chirp + PRBS, travel kept within +-1.5 rad) to an MCAP log for system identification", load: async () => (await import("./sysid-record.js")).command },
  { name: "sysid fit", summary: "Fit the simulator's physical parameters to a recorded excitation: params.json with uncertainties, and a held-out report", load: async () => (await import("./sysid-fit.js")).command },
];
