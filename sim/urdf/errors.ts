/**
 * The one error type for bad robot descriptions. Its message reads
 * `<source>:<line>: <element>: <problem>`, e.g.
 * `furuta.urdf:42: joint "pendulum_joint": unknown joint type "hinge"`,
 * and the parts are kept as fields for programmatic checks.
 */
export class UrdfError extends Error {
  constructor(
    readonly source: string,
    readonly line: number | undefined,
    /** E.g. `joint "pendulum_joint"`, `link "arm"`, `<robot>`; empty when the whole file is at fault. */
    readonly element: string,
    readonly problem: string,
  ) {
    super(`${source}${line !== undefined ? `:${line}` : ""}: ${element ? `${element}: ` : ""}${problem}`);
    this.name = "UrdfError";
  }
}
