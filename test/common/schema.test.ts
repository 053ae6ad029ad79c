import test from "node:test";
import assert from "node:assert/strict";
import { obj, num, int, oneOf, arrayOf, ConfigError } from "../../common/schema.js";

const S = obj({ ppo: obj({ clip: num(0.2, { min: 0, max: 1, exclusiveMin: true }), epochs: int(5, { min: 1 }) }), arch: oneOf(["mlp", "gru"] as const, "gru"), sizes: arrayOf(int(undefined, { min: 1 }), [64, 64]) });

test("defaults fill absent fields", () => {
  assert.deepEqual(S.parse({}, ""), { ppo: { clip: 0.2, epochs: 5 }, arch: "gru", sizes: [64, 64] });
});

test("errors name the field", () => {
  assert.throws(() => S.parse({ ppo: { clip: -1 } }, "train"), (e: unknown) => e instanceof ConfigError && e.path === "train.ppo.clip");
  assert.throws(() => S.parse({ ppo: { clpi: 0.1 } }, ""), /ppo\.clpi: unknown field/);
  assert.throws(() => S.parse({ arch: "lstm2" }, ""), /arch: expected one of/);
  assert.throws(() => S.parse({ sizes: [64, 0.5] }, ""), /sizes\[1\]: expected an integer/);
});
