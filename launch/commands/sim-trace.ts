import { UsageError } from "../args.js";
import type { Command } from "../command.js";

/** `s2r sim trace furuta`: the simulator's own trajectory under a constant voltage, for fidelity checks against other models. */
export const command: Command = {
  spec: {
    name: "sim trace",
    summary: "",
    positionals: "<task>",
    options: {
      duration: { kind: "number", description: "seconds to simulate", default: 2, value: "S" },
      init: { kind: "list", description: "initial joint angle, e.g. alpha=0.5 or theta=0.1 (repeatable)", value: "NAME=RAD" },
      volts: { kind: "number", description: "constant motor voltage (0 = motor shorted at 0 V: back-EMF brakes)", default: 0, value: "V" },
      dt: { kind: "number", description: "physics step, s (default: the task's)", value: "S" },
      json: { kind: "boolean", description: 'print {"t":[...],"theta":[...],"alpha":[...],"thetadot":[...],"alphadot":[...]}' },
    },
    details: "Nominal parameters, no friction, dead zone, latency, noise or quantization; starts at rest at theta = 0 unless --init says otherwise.",
  },
  async run(args, io) {
    const task = args.positionals[0];
    if (task !== "furuta") throw new UsageError(`s2r sim trace: only the furuta task has a trace (got ${JSON.stringify(task)})`);
    const init: Record<string, number> = { theta: 0, alpha: 0 };
    for (const kv of args.options.init as string[]) {
      const m = /^(theta|alpha)=(.+)$/.exec(kv);
      if (!m || !Number.isFinite(Number(m[2]))) throw new UsageError(`s2r sim trace: --init expects theta=RAD or alpha=RAD, got ${JSON.stringify(kv)}`);
      init[m[1]!] = Number(m[2]);
    }
    const duration = args.options.duration as number;
    if (!(duration > 0)) throw new UsageError("s2r sim trace: --duration must be > 0");
    const { traceFurutaRapier } = await import("../../sim/tasks/furuta/trace.js");
    const tr = await traceFurutaRapier({ duration, alpha0: init.alpha!, theta0: init.theta!, volts: args.options.volts as number, dt: args.options.dt as number | undefined });
    if (args.options.json) io.out(JSON.stringify({ t: tr.t, theta: tr.theta, alpha: tr.alpha, thetadot: tr.thetadot, alphadot: tr.alphadot }) + "\n");
    else {
      io.out("t(s)\ttheta(rad)\talpha(rad)\tthetadot\talphadot\n");
      const every = Math.max(1, Math.floor(tr.t.length / 40));
      for (let i = 0; i < tr.t.length; i += every) io.out([tr.t[i], tr.theta[i], tr.alpha[i], tr.thetadot[i], tr.alphadot[i]].map((x) => x!.toFixed(4)).join("\t") + "\n");
    }
    return 0;
  },
};
