import { composeTransforms, identityTransform, quatFromAxisAngle, quatFromRpy, scale, type Transform } from "../physics/math.js";
import { movingJoints, type JointModel, type RobotModel } from "../urdf/model.js";

/**
 * Forward kinematics of a URDF tree: world pose of every link at given joint
 * positions. The root link is fixed to the world at the identity. Joint
 * positions are in `movingJoints(model)` order (URDF order of the joints that
 * move), the same order the simulator uses.
 */
export class Kinematics {
  readonly linkNames: readonly string[];
  readonly jointNames: readonly string[];
  /** For each link (in `linkNames` order): parent link index (-1 for the root) and its joint. */
  private readonly parent: Int32Array;
  private readonly joint: (JointModel | undefined)[];
  private readonly jointOrigin: Transform[];
  /** Index into the joint-position vector, or -1 for fixed joints and the root. */
  private readonly qIndex: Int32Array;
  /** Links in an order where every parent comes before its children. */
  private readonly order: number[];
  /** Links whose world pose never changes (the root and links hung off it by fixed joints). */
  readonly isStatic: readonly boolean[];

  constructor(model: RobotModel) {
    this.linkNames = model.links.map((l) => l.name);
    const moving = movingJoints(model);
    this.jointNames = moving.map((j) => j.name);
    const index = new Map(this.linkNames.map((n, i) => [n, i]));
    const n = this.linkNames.length;
    this.parent = new Int32Array(n).fill(-1);
    this.qIndex = new Int32Array(n).fill(-1);
    this.joint = new Array(n).fill(undefined);
    this.jointOrigin = new Array(n).fill(identityTransform());
    for (const j of model.joints) {
      const c = index.get(j.child)!;
      this.parent[c] = index.get(j.parent)!;
      this.joint[c] = j;
      this.jointOrigin[c] = { pos: [...j.origin.xyz], rot: quatFromRpy(j.origin.rpy) };
      this.qIndex[c] = moving.indexOf(j);
    }
    this.order = [];
    const visit = (i: number) => {
      this.order.push(i);
      for (let c = 0; c < n; c++) if (this.parent[c] === i) visit(c);
    };
    visit(index.get(model.rootLink)!);
    const stat = new Array<boolean>(n).fill(false);
    for (const i of this.order) stat[i] = this.parent[i] === -1 || (this.qIndex[i] === -1 && stat[this.parent[i]!]!);
    this.isStatic = stat;
  }

  /** World pose of every link (in `linkNames` order) at joint positions `q`. */
  linkPoses(q: ArrayLike<number>, out: Transform[] = []): Transform[] {
    for (const i of this.order) {
      const p = this.parent[i]!;
      if (p === -1) {
        out[i] = identityTransform();
        continue;
      }
      let local = this.jointOrigin[i]!;
      const j = this.joint[i]!;
      const qi = this.qIndex[i]!;
      if (qi >= 0) {
        const x = q[qi]!;
        const motion: Transform = j.type === "prismatic" ? { pos: scale(j.axis, x), rot: [0, 0, 0, 1] } : { pos: [0, 0, 0], rot: quatFromAxisAngle(j.axis, x) };
        local = composeTransforms(local, motion);
      }
      out[i] = composeTransforms(out[p]!, local);
    }
    return out;
  }
}
