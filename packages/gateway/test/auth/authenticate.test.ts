/** @module Authentication policies on a real gateway: 401/403/200 flows, credential conflicts, signed callers. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthCodes,
  createEdgeKeysFile,
  createTokenVerifier,
  type EdgeKeys,
  edgeSigner,
  edgeVerifier,
  staticKeys,
} from "@flotilla/auth";
import type { Identity } from "@flotilla/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIENCE, ISSUER, signToken, type TestKey, testKey } from "../../../auth/test/support/keys.js";
import { allowQueryToken, authenticate, authenticated, requireRole, requireTier } from "../../src/auth/index.js";
import { route } from "../../src/index.js";
import { expectError, seenBy, startGateway, type TestGateway } from "../support/harness.js";
import { probe, testRoutes } from "../support/services.js";

interface SeenCaller {
  subject: string;
  roles: string[];
  tier?: string;
  proof: string;
  expiresAt: number;
}

describe("gateway authentication", () => {
  let t: TestGateway;
  let dir: string;
  let key: TestKey;
  let edgeKeys: EdgeKeys;
  let lookups = 0;
  const machine: Identity = { subject: "svc-reporting", roles: ["reporter"] };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-gw-auth-"));
    edgeKeys = await createEdgeKeysFile(join(dir, "edge.jwks.json"));
    key = await testKey("k1");
    const tokens = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: staticKeys({ keys: [key.jwk] }) }],
    });
    const apiKeys = async (apiKey: string) => {
      lookups++;
      return apiKey === "machine-key-1" ? machine : undefined;
    };
    t = await startGateway({
      policies: [authenticate({ tokens, apiKeys, edge: edgeSigner(edgeKeys) })],
      routes: [
        route({ method: "GET", path: "/me", action: probe.inspect, policies: [authenticated()] }),
        route({ method: "GET", path: "/admin", action: probe.inspect, policies: [requireRole("admin", "ops")] }),
        route({ method: "GET", path: "/gold", action: probe.inspect, policies: [requireTier("gold")] }),
        route({
          method: "GET",
          path: "/stream",
          action: probe.inspect,
          policies: [allowQueryToken(), authenticated()],
        }),
        ...testRoutes,
      ],
    });
  });
  afterAll(async () => {
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${t.url}${path}`, { headers });
  const bearer = async (claims: Record<string, unknown> = {}) => ({
    authorization: `Bearer ${await signToken(key, claims)}`,
  });
  const callerOf = async (res: Response) => (await seenBy(res)).caller as SeenCaller | null;

  it("leaves a request without credentials anonymous on a public route", async () => {
    const res = await get("/inspect/1");
    expect(res.status).toBe(200);
    expect(await callerOf(res)).toBeNull();
  });

  it("answers 401 with WWW-Authenticate on an authenticated route without credentials", async () => {
    const res = await get("/me");
    await expectError(res, 401, "UNAUTHENTICATED");
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("passes services a caller whose proof the edge verifier accepts", async () => {
    const res = await get("/me", await bearer({ sub: "alice", tier: "gold" }));
    expect(res.status).toBe(200);
    const caller = await callerOf(res);
    expect(caller).toMatchObject({ subject: "alice", roles: ["customer"], tier: "gold" });
    expect(caller!.expiresAt).toBeGreaterThan(Date.now());
    const verified = await edgeVerifier(edgeKeys).verify(caller!.proof, Date.now());
    expect(verified.subject).toBe("alice");
  });

  it("checks roles and tiers: 403 without, 200 with", async () => {
    await expectError(await get("/admin", await bearer()), 403, "PERMISSION_DENIED");
    expect((await get("/admin", await bearer({ roles: ["ops"] }))).status).toBe(200);
    await expectError(await get("/gold", await bearer({ tier: "silver" })), 403, "PERMISSION_DENIED");
    expect((await get("/gold", await bearer({ tier: "gold" }))).status).toBe(200);
    await expectError(await get("/admin"), 401, "UNAUTHENTICATED");
  });

  it("answers 401 for an invalid or expired token even on a public route", async () => {
    const forged = await signToken(await testKey("k1"));
    const res = await get("/inspect/1", { authorization: `Bearer ${forged}` });
    const error = await expectError(res, 401, AuthCodes.TOKEN_INVALID.code);
    expect(error.message).not.toContain(forged);
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    const expired = await bearer({ exp: Math.floor(Date.now() / 1000) - 120 });
    await expectError(await get("/inspect/1", expired), 401, AuthCodes.TOKEN_EXPIRED.code);
  });

  it("answers 401 for a malformed Authorization header", async () => {
    for (const authorization of ["Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer", "Bearer a b", "Bearer  x", "token"]) {
      await expectError(await get("/inspect/1", { authorization }), 401, AuthCodes.CREDENTIALS_MALFORMED.code);
    }
  });

  it("refuses two credentials on one request", async () => {
    const token = await signToken(key);
    const conflict = AuthCodes.CREDENTIALS_CONFLICT.code;
    await expectError(
      await get("/me", { authorization: `Bearer ${token}`, "x-api-key": "machine-key-1" }),
      400,
      conflict,
    );
    await expectError(await get(`/stream?access_token=${token}`, { authorization: `Bearer ${token}` }), 400, conflict);
    await expectError(await get(`/stream?access_token=${token}&access_token=${token}`), 400, conflict);
  });

  it("accepts a query token only on routes that allow it, and keeps it out of the action input", async () => {
    const token = await signToken(key, { sub: "viewer" });
    await expectError(await get(`/me?access_token=${token}`), 400, AuthCodes.QUERY_TOKEN_NOT_ALLOWED.code);
    const res = await get(`/stream?access_token=${token}&topic=orders`);
    expect(res.status).toBe(200);
    const seen = await seenBy(res);
    expect((seen.caller as SeenCaller).subject).toBe("viewer");
    expect(seen.input).toEqual({ topic: "orders" });
  });

  it("authenticates API keys, caching the lookup, and refuses unknown ones", async () => {
    const before = lookups;
    for (let i = 0; i < 5; i++) {
      const res = await get("/me", { "x-api-key": "machine-key-1" });
      expect(res.status).toBe(200);
      expect(await callerOf(res)).toMatchObject(machine);
    }
    expect(lookups - before).toBe(1);
    await expectError(await get("/me", { "x-api-key": "nope" }), 401, AuthCodes.API_KEY_INVALID.code);
  });

  it("gives no identity to a client that sends a flotilla-caller header itself", async () => {
    const forged = JSON.stringify({ subject: "root", roles: ["admin"] });
    const res = await get("/inspect/1", { "flotilla-caller": forged });
    expect(res.status).toBe(200);
    expect(await callerOf(res)).toBeNull();
    await expectError(await get("/admin", { "flotilla-caller": forged }), 401, "UNAUTHENTICATED");
  });
});
