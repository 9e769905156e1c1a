import { createHost, defineContract, defineService, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identity } from "./contract.js";
import { demoUsers } from "./seed.js";
import { createIdentityService } from "./service.js";
import { SHOP_AUDIENCE } from "./token-config.js";

const issuer = "https://shop.test";
const admin = { subject: "user-admin", roles: ["admin"] };
const customer = { subject: "user-demo", roles: ["customer"] };

const seen: Array<{ type: string; data: unknown }> = [];
const record = (type: string) => async (data: unknown) => {
  seen.push({ type, data });
};
const observer = defineService(defineContract({ service: "observer" }), {
  actions: {},
  subscriptions: {
    registered: { event: identity.UserRegistered, handle: record("UserRegistered") },
    signedIn: { event: identity.UserSignedIn, handle: record("UserSignedIn") },
  },
});

describe("identity service", () => {
  let host: Host;
  beforeAll(async () => {
    host = createHost({
      services: [createIdentityService({ issuer, tokenTtlSec: 900 }), observer],
      resources: [sqliteDatabases({ dataDir: ":memory:" })],
      transport: "memory://?faithful=1",
      validateOutput: true,
    });
    await host.start();
  });
  afterAll(() => host.stop());

  async function verify(token: string) {
    const { keys } = await host.call(identity.jwks, {});
    const jwks = createLocalJWKSet({ keys });
    return jwtVerify(token, jwks, { algorithms: ["ES256"], issuer, audience: SHOP_AUDIENCE });
  }

  it("registers a user whose token verifies against the published keys", async () => {
    const user = await host.call(identity.register, {
      email: " Ada@Example.ORG",
      password: "correct horse",
      name: "Ada",
    });
    expect(user).toMatchObject({ email: "ada@example.org", name: "Ada" });
    const { token, expiresIn } = await host.call(identity.login, {
      email: "ADA@example.org",
      password: "correct horse",
    });
    expect(expiresIn).toBe(900);
    const { payload, protectedHeader } = await verify(token);
    expect(protectedHeader).toMatchObject({ alg: "ES256", typ: "JWT", kid: expect.any(String) });
    expect(payload).toMatchObject({
      sub: user.id,
      iss: issuer,
      aud: SHOP_AUDIENCE,
      roles: ["customer"],
      tier: "standard",
    });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.jti).toEqual(expect.any(String));
    const me = await host.call(identity.me, {}, { caller: { subject: user.id, roles: ["customer"] } });
    expect(me).toEqual({ ...user, roles: ["customer"], tier: "standard" });
    await expect
      .poll(() => seen)
      .toEqual(
        expect.arrayContaining([
          { type: "UserRegistered", data: { userId: user.id, email: "ada@example.org", name: "Ada" } },
          { type: "UserSignedIn", data: { userId: user.id, expiresAt: new Date(payload.exp! * 1000).toISOString() } },
        ]),
      );
  });

  it("refuses a second account for the same email, whatever its case", async () => {
    await host.call(identity.register, { email: "dup@example.org", password: "password-1", name: "One" });
    const again = host.call(identity.register, { email: "DUP@example.org", password: "password-2", name: "Two" });
    await expect(again).rejects.toMatchObject({ code: "EMAIL_TAKEN", status: "ALREADY_EXISTS" });
  });

  it("validates registrations at the boundary", async () => {
    const bad = [
      { email: "not-an-email", password: "long enough", name: "X" },
      { email: "x@example.org", password: "short", name: "X" },
      { email: "x@example.org", password: "long enough", name: "" },
      { email: "x@example.org", password: "p".repeat(129), name: "X" },
    ];
    for (const input of bad) {
      await expect(host.call(identity.register, input)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
  });

  it("answers a wrong password and an unknown email alike, both paying for a hash", async () => {
    const attempt = async (email: string) => {
      const started = performance.now();
      const err = await host.call(identity.login, { email, password: "wrong-password" }).catch((e: unknown) => e);
      return { err: err as { code: string; message: string }, ms: performance.now() - started };
    };
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await attempt("demo@flotilla.dev");
      const b = await attempt(`nobody-${i}@flotilla.dev`);
      expect(a.err).toMatchObject({ code: "INVALID_CREDENTIALS", status: "UNAUTHENTICATED" });
      expect([b.err.code, b.err.message]).toEqual([a.err.code, a.err.message]);
      wrong.push(a.ms);
      unknown.push(b.ms);
    }
    // Not a timing-attack proof: only that the unknown-email path hashes too (else it would be ~100× faster).
    const ratio = median(unknown) / median(wrong);
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  });

  it("seeds the demo accounts, who can sign in with their roles and tiers", async () => {
    for (const demo of demoUsers) {
      const { token } = await host.call(identity.login, { email: demo.email, password: demo.password });
      const { payload } = await verify(token);
      expect(payload).toMatchObject({ sub: demo.id, roles: [demo.role], tier: demo.tier });
    }
    const me = await host.call(identity.me, {}, { caller: customer });
    expect(me).toEqual({
      id: "user-demo",
      email: "demo@flotilla.dev",
      name: "Demo Customer",
      roles: ["customer"],
      tier: "standard",
    });
  });

  it("needs a caller for me and logout, and reports a caller whose account is gone", async () => {
    await expect(host.call(identity.me, {})).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    await expect(host.call(identity.logout, {})).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    const ghost = { subject: "deleted-user", roles: ["customer"] };
    await expect(host.call(identity.me, {}, { caller: ghost })).rejects.toMatchObject({
      code: "USER_NOT_FOUND",
      status: "NOT_FOUND",
    });
  });

  it("publishes public key members only, and honest discovery metadata", async () => {
    const { keys } = await host.call(identity.jwks, {});
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(Object.keys(key).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
      expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    }
    expect(JSON.stringify(keys)).not.toMatch(/"d"/);
    const config = await host.call(identity.openidConfiguration, {});
    expect(config).toMatchObject({
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ["ES256"],
    });
    expect(config).not.toHaveProperty("token_endpoint");
  });

  it("issues, verifies and revokes API keys, for admins only", async () => {
    const input = { name: "warehouse robot", roles: ["service" as const] };
    await expect(host.call(identity.issueApiKey, input)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    await expect(host.call(identity.issueApiKey, input, { caller: customer })).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
    });
    const { id, key } = await host.call(identity.issueApiKey, input, { caller: admin });
    expect(key).toMatch(new RegExp(`^flk_${id}_[A-Za-z0-9_-]{43}$`));
    expect(await host.call(identity.verifyApiKey, { key })).toEqual({
      subject: `apikey:${id}`,
      roles: ["service"],
      tier: "standard",
    });
    const tampered = `${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`;
    for (const wrong of [tampered, "flk_0000000000000000_" + "A".repeat(43), "garbage"]) {
      await expect(host.call(identity.verifyApiKey, { key: wrong })).rejects.toMatchObject({
        code: "API_KEY_INVALID",
        status: "UNAUTHENTICATED",
      });
    }
    await expect(host.call(identity.revokeApiKey, { id }, { caller: customer })).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
    });
    await host.call(identity.revokeApiKey, { id }, { caller: admin });
    await host.call(identity.revokeApiKey, { id }, { caller: admin });
    await expect(host.call(identity.verifyApiKey, { key })).rejects.toMatchObject({ code: "API_KEY_INVALID" });
    await expect(host.call(identity.revokeApiKey, { id: "nope" }, { caller: admin })).rejects.toMatchObject({
      code: "API_KEY_NOT_FOUND",
    });
  });

  it("counts a user online after login and no more after logout", async () => {
    const online = () => host.call(identity.usersOnline, {});
    const user = await host.call(identity.register, {
      email: "online@example.org",
      password: "password-3",
      name: "On",
    });
    await host.call(identity.login, { email: "online@example.org", password: "password-3" });
    await expect.poll(async () => (await online()).users.map((u) => u.userId)).toContain(user.id);
    const signedIn = await online();
    expect(signedIn.count).toBe(signedIn.users.length);
    const entry = signedIn.users.find((u) => u.userId === user.id);
    expect(Date.parse(entry!.until)).toBeGreaterThan(Date.now());
    expect(Date.parse(entry!.since)).toBeLessThanOrEqual(Date.now());
    await host.call(identity.logout, {}, { caller: { subject: user.id, roles: ["customer"] } });
    await expect.poll(async () => (await online()).count).toBe(signedIn.count - 1);
    expect((await online()).users.map((u) => u.userId)).not.toContain(user.id);
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
