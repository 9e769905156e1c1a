import { FlotillaError } from "@flotilla/core";
import { afterEach, describe, expect, it } from "vitest";
import { fallbacks } from "../src/index.js";
import { type Cluster, cluster, flaky, settle } from "./cluster.js";

let c: Cluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

describe("fallbacks", () => {
  it("answers a chosen action when its dependency could not, and passes domain errors through", async () => {
    const errors: FlotillaError[] = [];
    c = await cluster(["a"], () => [
      fallbacks({
        "flaky.read": (call, err) => {
          errors.push(err);
          return { instance: `fallback for ${call.ref.name}` };
        },
      }),
    ]);
    c.script.set("flaky-a", "unavailable");
    expect(await c.caller.call(flaky.read, {})).toEqual({ instance: "fallback for read" });
    expect(errors[0]).toBeInstanceOf(FlotillaError);
    expect(errors[0]?.code).toBe("UNAVAILABLE");
    expect(await settle(c.caller.call(flaky.write, {}))).toMatchObject({ ok: false, error: { code: "UNAVAILABLE" } });
    c.script.set("flaky-a", "not-found");
    expect(await settle(c.caller.call(flaky.read, {}))).toMatchObject({ ok: false, error: { code: "NO_SUCH_THING" } });
  });

  it("answers only the failures `when` chooses, and checks the answer against the contract", async () => {
    c = await cluster(["a"], () => [
      fallbacks({
        "flaky.read": { when: (err) => err.status === "NOT_FOUND", answer: () => ({ instance: "default" }) },
        "flaky.write": () => ({ wrong: true }),
      }),
    ]);
    c.script.set("flaky-a", "not-found");
    expect(await c.caller.call(flaky.read, {})).toEqual({ instance: "default" });
    c.script.set("flaky-a", "unavailable");
    expect(await settle(c.caller.call(flaky.read, {}))).toMatchObject({ ok: false, error: { code: "UNAVAILABLE" } });
    expect(await settle(c.caller.call(flaky.write, {}))).toMatchObject({
      ok: false,
      error: { code: "FLOTILLA_INVALID_OUTPUT", cause: { code: "UNAVAILABLE" } },
    });
  });
});
