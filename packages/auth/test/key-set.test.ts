/** @module Key sets against a real loopback JWKS server: single flight, refetch floor, rotation, discovery. */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AuthCodes, createTokenVerifier, keysFromUrl, oidcIssuer } from "../src/index.js";
import { type JwksServer, startJwksServer } from "./support/jwks-server.js";
import { AUDIENCE, ISSUER, signToken, type TestKey, testKey } from "./support/keys.js";

// Long enough that a loaded two-core machine does not cross it between two steps of one test.
const FLOOR_MS = 400;

describe("key set fetched from a JWKS URL", () => {
  let server: JwksServer;
  let k1: TestKey;
  let k2: TestKey;
  beforeEach(async () => {
    server = await startJwksServer();
    k1 = await testKey("k1");
    k2 = await testKey("k2");
    server.keys = [k1.jwk];
  });
  afterEach(() => server.close());

  const verifierFor = (url: string) =>
    createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: keysFromUrl(url) }],
      keySet: { minRefetchMs: FLOOR_MS },
      cache: false,
    });

  it("fetches once for 50 concurrent first verifications, and once for 50 with an unknown kid", async () => {
    const verifier = verifierFor(`${server.url}/jwks.json`);
    const t1 = await signToken(k1);
    await Promise.all(Array.from({ length: 50 }, () => verifier.verify(t1)));
    expect(server.hitsOf("/jwks.json")).toBe(1);

    await sleep(FLOOR_MS + 20);
    server.keys = [k2.jwk, k1.jwk];
    const t2 = await signToken(k2);
    const results = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(t2)));
    expect(results.every((r) => r.identity.subject === "user-1")).toBe(true);
    expect(server.hitsOf("/jwks.json")).toBe(2);
  });

  it("does not refetch for a second unknown kid within the floor, and does after it (rotation picked up)", async () => {
    const verifier = verifierFor(`${server.url}/jwks.json`);
    await verifier.verify(await signToken(k1));
    expect(server.hitsOf("/jwks.json")).toBe(1);

    await sleep(FLOOR_MS + 20);
    const ghost = await testKey("ghost");
    await expect(verifier.verify(await signToken(ghost))).rejects.toMatchObject({ code: AuthCodes.TOKEN_INVALID.code });
    expect(server.hitsOf("/jwks.json")).toBe(2);

    // Rotated just after that fetch: within the floor the new kid is refused without a fetch.
    server.keys = [k2.jwk, k1.jwk];
    const t2 = await signToken(k2);
    await expect(verifier.verify(t2)).rejects.toMatchObject({ code: AuthCodes.TOKEN_INVALID.code });
    expect(server.hitsOf("/jwks.json")).toBe(2);

    await sleep(FLOOR_MS + 20);
    expect((await verifier.verify(t2)).identity.subject).toBe("user-1");
    expect(server.hitsOf("/jwks.json")).toBe(3);
  });

  it("refreshes in the background once the keys are older than maxAgeMs", async () => {
    const verifier = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: keysFromUrl(`${server.url}/jwks.json`) }],
      keySet: { minRefetchMs: 10, maxAgeMs: 50 },
      cache: false,
    });
    const t1 = await signToken(k1);
    await verifier.verify(t1);
    await sleep(80);
    await verifier.verify(t1);
    await vi.waitFor(() => expect(server.hitsOf("/jwks.json")).toBe(2));
  });

  it("answers KEYS_UNAVAILABLE when the source is unreachable and nothing is cached", async () => {
    const verifier = verifierFor(`${server.url}/missing.json`);
    await expect(verifier.verify(await signToken(k1))).rejects.toMatchObject({
      code: AuthCodes.KEYS_UNAVAILABLE.code,
      status: "UNAVAILABLE",
    });
  });

  it("keeps verifying with cached keys when the source goes down", async () => {
    const verifier = verifierFor(`${server.url}/jwks.json`);
    const t1 = await signToken(k1);
    await verifier.verify(t1);
    server.routes.set("/jwks.json", [500, "text/plain", "down"]);
    await sleep(FLOOR_MS + 20);
    await expect(verifier.verify(await signToken(await testKey("k9")))).rejects.toMatchObject({
      code: AuthCodes.TOKEN_INVALID.code,
    });
    expect((await verifier.verify(t1)).identity.subject).toBe("user-1");
  });

  it("refuses answers that are not JSON or exceed the size cap", async () => {
    server.routes.set("/html", [200, "text/html", JSON.stringify({ keys: [k1.jwk] })]);
    server.routes.set("/big", [200, "application/json", JSON.stringify({ keys: [k1.jwk], pad: "x".repeat(5000) })]);
    await expect(keysFromUrl(`${server.url}/html`)()).rejects.toMatchObject({ code: AuthCodes.KEYS_UNAVAILABLE.code });
    await expect(keysFromUrl(`${server.url}/big`, { maxBytes: 1024 })()).rejects.toMatchObject({
      code: AuthCodes.KEYS_UNAVAILABLE.code,
    });
    expect((await keysFromUrl(`${server.url}/jwks.json`)()).keys).toHaveLength(1);
  });

  it("ignores keys without alg, with use other than sig, with an algorithm not allowed, or an unsafe kid", async () => {
    const { alg: _alg, ...noAlg } = k1.jwk;
    server.keys = [noAlg, { ...k1.jwk, use: "enc" }, { ...k1.jwk, kid: "../k1" }];
    const verifier = verifierFor(`${server.url}/jwks.json`);
    await expect(verifier.verify(await signToken(k1))).rejects.toMatchObject({ code: AuthCodes.TOKEN_INVALID.code });
    const rsa = await testKey("rsa", "RS256");
    server.keys = [rsa.jwk];
    await sleep(FLOOR_MS + 20);
    await expect(verifier.verify(await signToken(rsa))).rejects.toMatchObject({ code: AuthCodes.TOKEN_INVALID.code });
  });

  it("accepts RS256 from an issuer configured for it", async () => {
    const rsa = await testKey("rsa", "RS256");
    server.keys = [rsa.jwk];
    const verifier = createTokenVerifier({
      issuers: [
        { issuer: ISSUER, audience: AUDIENCE, keys: keysFromUrl(`${server.url}/jwks.json`), algorithms: ["RS256"] },
      ],
    });
    expect((await verifier.verify(await signToken(rsa))).issuer).toBe(ISSUER);
  });
});

describe("OIDC discovery", () => {
  it("finds the keys of a loopback issuer through its discovery document", async () => {
    const server = await startJwksServer();
    try {
      const key = await testKey("oidc-1");
      server.keys = [key.jwk];
      const verifier = createTokenVerifier({
        issuers: [{ issuer: server.url, audience: AUDIENCE, keys: oidcIssuer(server.url) }],
      });
      const verified = await verifier.verify(await signToken(key, { iss: server.url }));
      expect(verified.issuer).toBe(server.url);
      expect(server.hitsOf("/.well-known/openid-configuration")).toBe(1);
      expect(server.hitsOf("/jwks.json")).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("refuses a discovery document that names another issuer", async () => {
    const server = await startJwksServer("https://evil.example");
    try {
      await expect(oidcIssuer(server.url)()).rejects.toMatchObject({ code: AuthCodes.KEYS_UNAVAILABLE.code });
      expect(server.hitsOf("/jwks.json")).toBe(0);
    } finally {
      await server.close();
    }
  });
});
