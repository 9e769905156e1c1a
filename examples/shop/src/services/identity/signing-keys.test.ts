import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { identity } from "./contract.js";
import { createIdentityService, type IdentityOptions } from "./service.js";
import { SHOP_AUDIENCE } from "./token-config.js";

const issuer = "https://shop.test";
const admin = { subject: "user-admin", roles: ["admin"] };
const demo = { email: "demo@flotilla.dev", password: "demo-password" };

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

async function start(options: IdentityOptions, dataDir = ":memory:"): Promise<Host> {
  const host = createHost({
    services: [createIdentityService({ issuer, ...options })],
    resources: [sqliteDatabases({ dataDir })],
    transport: "memory://?faithful=1",
    validateOutput: true,
  });
  hosts.push(host);
  await host.start();
  return host;
}

/** Verifies against the JWKS published now, as of `at` (so a 1-second token can be checked after a slow step). */
async function verifyWith(host: Host, token: string, at = new Date()) {
  const jwks = createLocalJWKSet(await host.call(identity.jwks, {}));
  return jwtVerify(token, jwks, { algorithms: ["ES256"], issuer, audience: SHOP_AUDIENCE, currentDate: at });
}

const kids = async (host: Host) => (await host.call(identity.jwks, {})).keys.map((k) => k.kid);

describe("signing key rotation", () => {
  it("keeps old tokens valid, signs new ones with the new key, and unpublishes the old key once its tokens expired", async () => {
    const host = await start({ tokenTtlSec: 1, clockSkewSec: 0, keyCacheMs: 0 });
    const before = await host.call(identity.login, demo);
    const oldKid = decodeProtectedHeader(before.token).kid;
    await expect(
      host.call(identity.rotateSigningKey, {}, { caller: { subject: "u", roles: ["customer"] } }),
    ).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
    });
    const rotated = await host.call(identity.rotateSigningKey, {}, { caller: admin });
    expect(rotated.retired).toBe(oldKid);
    expect(rotated.kid).not.toBe(oldKid);
    expect(await kids(host)).toEqual([rotated.kid, oldKid]);
    const issuedAt = new Date(decodeJwt(before.token).iat! * 1000);
    await expect(verifyWith(host, before.token, issuedAt)).resolves.toBeDefined();
    const after = await host.call(identity.login, demo);
    expect(decodeProtectedHeader(after.token).kid).toBe(rotated.kid);
    // TTL 1 s, no skew, no cache: the retired key is gone about a second after its retirement.
    await expect.poll(() => kids(host), { timeout: 5_000, interval: 200 }).toEqual([rotated.kid]);
  });

  it("rotates a key that grew older than the maximum age when it next signs", async () => {
    const host = await start({ keyMaxAgeMs: 300, keyCacheMs: 0 });
    const first = decodeProtectedHeader((await host.call(identity.login, demo)).token).kid;
    await new Promise((r) => setTimeout(r, 400));
    const { token } = await host.call(identity.login, demo);
    const second = decodeProtectedHeader(token).kid;
    expect(second).not.toBe(first);
    // Seeding may take longer than 300 ms, so the first login may have rotated already: compare the last two.
    const published = await kids(host);
    expect(published[0]).toBe(second);
    expect(published).toContain(first);
    await expect(verifyWith(host, token)).resolves.toBeDefined();
  });

  it("shares keys between instances on one database: one winner when they rotate at once, caches that lapse", async () => {
    const dir = await mkdtemp(join(tmpdir(), "identity-keys-"));
    try {
      // Started one after the other: concurrent migrations of one SQLite file fail with "database is locked".
      const a = await start({ keyCacheMs: 200 }, dir);
      const b = await start({ keyCacheMs: 200 }, dir);
      const kidA = decodeProtectedHeader((await a.call(identity.login, demo)).token).kid;
      const kidB = decodeProtectedHeader((await b.call(identity.login, demo)).token).kid;
      expect(kidB).toBe(kidA);
      // Both read the same newest key and insert its successor: the unique generation lets one through.
      const [ra, rb] = await Promise.all([
        a.call(identity.rotateSigningKey, {}, { caller: admin }),
        b.call(identity.rotateSigningKey, {}, { caller: admin }),
      ]);
      expect(rb.kid).toBe(ra.kid);
      expect(await kids(a)).toEqual([ra.kid, kidA]);
      await expect
        .poll(async () => decodeProtectedHeader((await b.call(identity.login, demo)).token).kid, { timeout: 5_000 })
        .toBe(ra.kid);
      // A restart keeps the key and the accounts: nothing is seeded or created twice.
      await a.stop();
      const c = await start({}, dir);
      expect(decodeProtectedHeader((await c.call(identity.login, demo)).token).kid).toBe(ra.kid);
      const dup = c.call(identity.register, { email: "demo@flotilla.dev", password: "whatever-1", name: "X" });
      await expect(dup).rejects.toMatchObject({ code: "EMAIL_TAKEN" });
    } finally {
      await Promise.all(hosts.splice(0).map((h) => h.stop()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});

afterAll(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});
