/** @module Token verification: identities, the verified-token cache, and the attacks it must refuse. */
import { setTimeout as sleep } from "node:timers/promises";
import { FlotillaError } from "@flotilla/core";
import { type CryptoKey, exportSPKI, importJWK, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthCodes, createTokenVerifier, keysFromUrl, staticKeys, type TokenVerifier } from "../src/index.js";
import { type JwksServer, startJwksServer } from "./support/jwks-server.js";
import { AUDIENCE, ISSUER, signToken, type TestKey, testKey, unsignedToken, withPayload } from "./support/keys.js";

const INVALID = AuthCodes.TOKEN_INVALID.code;

async function rejection(promise: Promise<unknown>): Promise<FlotillaError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlotillaError);
  return err as FlotillaError;
}

describe("token verifier", () => {
  let server: JwksServer;
  let key: TestKey;
  let other: TestKey;
  let verifier: TokenVerifier;
  beforeAll(async () => {
    server = await startJwksServer();
    key = await testKey("k1");
    other = await testKey("k2", "EdDSA");
    server.keys = [key.jwk, other.jwk];
    verifier = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: keysFromUrl(`${server.url}/jwks.json`) }],
      keySet: { minRefetchMs: 0 },
    });
  });
  afterAll(() => server.close());

  async function expectCode(token: string, code: string): Promise<FlotillaError> {
    const err = await rejection(verifier.verify(token));
    expect(err.code).toBe(code);
    expect(err.status).toBe("UNAUTHENTICATED");
    if (token.length > 0) expect(err.message).not.toContain(token);
    return err;
  }

  it("verifies ES256 and EdDSA tokens into identities with their expiry", async () => {
    const exp = Math.floor(Date.now() / 1000) + 120;
    const verified = await verifier.verify(await signToken(key, { roles: ["admin", 7], tier: "gold", exp }));
    expect(verified).toEqual({
      identity: { subject: "user-1", roles: ["admin"], tier: "gold" },
      expiresAt: exp * 1000,
      issuer: ISSUER,
    });
    expect((await verifier.verify(await signToken(other, { sub: "u-2" }))).identity.subject).toBe("u-2");
  });

  it("serves a repeated token from the cache, synchronously through cached()", async () => {
    const token = await signToken(key, { sub: "cached-user" });
    expect(verifier.cached(token)).toBeUndefined();
    const first = await verifier.verify(token);
    expect(verifier.cached(token)).toBe(first);
    expect(await verifier.verify(token)).toBe(first);
  });

  it("keeps a cached token no longer than its exp", async () => {
    const local = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: staticKeys({ keys: [key.jwk] }) }],
      clockSkewSec: 5,
    });
    const token = await signToken(key, { exp: Math.floor(Date.now() / 1000) + 1 });
    await local.verify(token);
    await sleep(1100);
    expect(local.cached(token)).toBeUndefined();
  });

  it("refuses alg none in any casing", async () => {
    await expectCode(new UnsecuredJWT({ sub: "x" }).setIssuer(ISSUER).setAudience(AUDIENCE).encode(), INVALID);
    for (const alg of ["none", "None", "NONE", "nOnE"]) await expectCode(unsignedToken({ alg, kid: "k1" }), INVALID);
  });

  it("refuses HS256 signed with the public key's bytes (key confusion)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: ISSUER, aud: AUDIENCE, sub: "x", exp: now + 60 };
    const pem = await exportSPKI((await importJWK(key.jwk, "ES256")) as CryptoKey);
    for (const secret of [JSON.stringify(key.jwk), pem, key.jwk.x as string]) {
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", kid: "k1" })
        .sign(new TextEncoder().encode(secret));
      await expectCode(forged, INVALID);
    }
  });

  it("refuses unsafe kids before any lookup, and tokens without kid when the set has several keys", async () => {
    const before = server.hitsOf("/jwks.json");
    for (const kid of ["../../etc/passwd", "k1' OR '1'='1", "k1;DROP TABLE keys", "x".repeat(200), ""]) {
      await expectCode(await signToken(key, {}, { kid }), INVALID);
    }
    expect(server.hitsOf("/jwks.json")).toBe(before);
    await expectCode(await signToken(key, {}, { kid: undefined }), INVALID);
  });

  it("refuses jku, x5u, jwk, x5c and crit headers, and never fetches what they point at", async () => {
    const jku = `${server.url}/attacker-jwks.json`;
    server.routes.set("/attacker-jwks.json", [200, "application/json", JSON.stringify({ keys: [other.jwk] })]);
    const forged = [
      await signToken(other, {}, { kid: "k1", jku }),
      await signToken(other, {}, { kid: "k1", x5u: `${server.url}/attacker.pem` }),
      await signToken(other, {}, { kid: "k1", jwk: other.jwk }),
      await signToken(other, {}, { kid: "k1", x5c: ["MIIB"] }),
      unsignedToken({ alg: "ES256", kid: "k1", crit: ["exp"], exp: 1 }),
    ];
    for (const token of forged) await expectCode(token, INVALID);
    expect(server.hitsOf("/attacker-jwks.json")).toBe(0);
    expect(server.hitsOf("/attacker.pem")).toBe(0);
  });

  it("refuses expired tokens and tokens not valid yet, beyond the clock skew", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectCode(await signToken(key, { exp: now - 60 }), AuthCodes.TOKEN_EXPIRED.code);
    await expectCode(await signToken(key, { nbf: now + 120 }), AuthCodes.TOKEN_NOT_YET_VALID.code);
    // Within the 30 s skew: accepted.
    expect((await verifier.verify(await signToken(key, { exp: now - 10 }))).issuer).toBe(ISSUER);
    await expectCode(await signToken(key, { exp: undefined }), INVALID);
  });

  it("refuses a wrong iss, a wrong aud, a tampered payload and a tampered signature", async () => {
    await expectCode(await signToken(key, { iss: "https://evil.example" }), INVALID);
    await expectCode(await signToken(key, { aud: "someone-else" }), INVALID);
    const token = await signToken(key);
    await expectCode(
      withPayload(token, { iss: ISSUER, aud: AUDIENCE, sub: "admin", roles: ["admin"], exp: 2e9 }),
      INVALID,
    );
    const last = token.at(-2) === "A" ? "B" : "A";
    await expectCode(`${token.slice(0, -2)}${last}${token.at(-1)}`, INVALID);
  });

  it("refuses a token whose alg differs from its key's, and a token signed by an unknown key under a known kid", async () => {
    await expectCode(await signToken(other, {}, { kid: "k1" }), INVALID);
    const impostor = await testKey("k1");
    await expectCode(await signToken(impostor), INVALID);
  });

  it("refuses malformed and oversized tokens without echoing them", async () => {
    for (const token of ["", "abc", "a.b.c", "a.b", `${"x".repeat(9000)}.y.z`, "e30.e30.e30.e30.e30"]) {
      await expectCode(token, INVALID);
    }
    const big = await signToken(key, { pad: "x".repeat(9000) });
    await expectCode(big, INVALID);
  });
});
