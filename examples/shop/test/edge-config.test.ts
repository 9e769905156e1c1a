/** The shop's edge configuration from the environment: a value it cannot use stops the start, with FLOTILLA_CONFIG. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEdgeKeysFile, edgeSigner } from "@flotilla/auth";
import { createHost } from "@flotilla/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shopPolicies } from "../src/edge.js";

describe("the shop's edge configuration", () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-edge-config-"));
  let env: Parameters<typeof shopPolicies>[0];
  beforeAll(async () => {
    env = { host: createHost(), edge: edgeSigner(await createEdgeKeysFile(join(dir, "edge-keys.json"))) };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("builds authentication then the rate limit from the defaults and from valid settings", () => {
    expect(shopPolicies(env, {}).map((p) => p.name)).toEqual(["authenticate", "rate-limit"]);
    const tuned = shopPolicies(env, {
      FLOTILLA_RATE_LIMIT: '{"anonymous":{"limit":10,"windowSec":60}}',
      FLOTILLA_OIDC_ISSUERS: '[{"issuer":"https://sso.example.com","audience":"shop"}]',
      FLOTILLA_TRUSTED_PROXIES: "10.0.0.0/8, 127.0.0.1",
    });
    expect(tuned).toHaveLength(2);
    expect(shopPolicies(env, { FLOTILLA_RATE_LIMIT: "1000000/60" })).toHaveLength(2);
  });

  it.each([
    ["FLOTILLA_RATE_LIMIT", "lots"],
    ["FLOTILLA_RATE_LIMIT", "0/60"],
    ["FLOTILLA_OIDC_ISSUERS", "not json"],
    ["FLOTILLA_OIDC_ISSUERS", '{"issuer":"https://sso.example.com"}'],
    ["FLOTILLA_TRUSTED_PROXIES", "not-an-address"],
    ["FLOTILLA_PUBLIC_URL", "nowhere"],
  ])("refuses %s=%s with FLOTILLA_CONFIG", (name, value) => {
    expect(() => shopPolicies(env, { [name]: value })).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
  });
});
