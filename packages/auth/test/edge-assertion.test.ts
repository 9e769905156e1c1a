/** @module Edge assertions: the key file, the signer's reuse, and the verifier's refusals and sync cache hits. */
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlotillaError, type Identity } from "@flotilla/core";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthCodes,
  createEdgeKeysFile,
  EDGE_AUDIENCE,
  EDGE_ISSUER,
  EDGE_TYP,
  type EdgeKeys,
  edgeSigner,
  edgeVerifier,
  loadEdgeKeys,
  rotateEdgeKeys,
} from "../src/index.js";
import { AUDIENCE, ISSUER, signToken, testKey, withPayload } from "./support/keys.js";

const UNVERIFIED = AuthCodes.CALLER_UNVERIFIED.code;
const alice: Identity = { subject: "alice", roles: ["customer"], tier: "gold", tenant: "t1" };

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlotillaError);
    expect((err as FlotillaError).status).toBe("UNAUTHENTICATED");
    return (err as FlotillaError).code;
  }
  return undefined;
}

describe("edge keys file", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-edge-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("creates a 0600 file once, loads it, and rotates with the new key first", async () => {
    const path = join(dir, "edge.jwks.json");
    const created = await createEdgeKeysFile(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await expect(createEdgeKeysFile(path)).rejects.toMatchObject({ code: "FLOTILLA_CONFIG" });
    const loaded = await loadEdgeKeys(path);
    expect(loaded.signing?.kid).toBe(created.signing?.kid);

    const oldProof = (await edgeSigner(loaded).sign(alice)).proof!;
    const rotated = await rotateEdgeKeys(path);
    expect(rotated.signing?.kid).not.toBe(created.signing?.kid);
    expect([...rotated.verifying.keys()]).toEqual([rotated.signing?.kid, created.signing?.kid]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const file = JSON.parse(await readFile(path, "utf8")) as { keys: { kid: string }[] };
    expect(file.keys[0]?.kid).toBe(rotated.signing?.kid);
    // An assertion signed before the rotation still verifies after it.
    expect((await edgeVerifier(rotated).verify(oldProof, Date.now())).subject).toBe("alice");
  });
});

describe("edge signer and verifier", () => {
  let keys: EdgeKeys;
  let foreign: EdgeKeys;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-edge-"));
    keys = await createEdgeKeysFile(join(dir, "a.json"));
    foreign = await createEdgeKeysFile(join(dir, "b.json"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("signs an identity into a proof the verifier turns back into the same identity", async () => {
    const signed = await edgeSigner(keys).sign(alice);
    expect(signed).toMatchObject(alice);
    expect(signed.expiresAt! - Date.now()).toBeGreaterThan(290_000);
    const verified = await edgeVerifier(keys).verify(signed.proof!, Date.now());
    expect(verified).toEqual(signed);
  });

  it("reuses an assertion per identity until less than the renewal margin is left", async () => {
    let now = Date.now();
    const signer = edgeSigner(keys, { now: () => now });
    const first = await signer.sign(alice);
    expect(await signer.sign({ ...alice })).toBe(first);
    expect((await signer.sign({ ...alice, roles: ["admin"] })).proof).not.toBe(first.proof);
    now += 239_000;
    expect(await signer.sign(alice)).toBe(first);
    now += 2_000;
    expect((await signer.sign(alice)).proof).not.toBe(first.proof);
  });

  it("returns synchronously on a cache hit", async () => {
    const verifier = edgeVerifier(keys);
    const { proof } = await edgeSigner(keys).sign(alice);
    const first = verifier.verify(proof!, Date.now());
    expect(first).toBeInstanceOf(Promise);
    await first;
    const second = verifier.verify(proof!, Date.now());
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as Identity).subject).toBe("alice");
  });

  it("rejects an assertion signed by another key, even under a known kid", async () => {
    const forged = (await edgeSigner(foreign).sign(alice)).proof!;
    expect(await codeOf(() => edgeVerifier(keys).verify(forged, Date.now()))).toBe(UNVERIFIED);
    const now = Math.floor(Date.now() / 1000);
    const underKnownKid = await new SignJWT({ roles: ["admin"] })
      .setProtectedHeader({ alg: "EdDSA", kid: keys.signing!.kid, typ: EDGE_TYP })
      .setIssuer(EDGE_ISSUER)
      .setAudience(EDGE_AUDIENCE)
      .setSubject("mallory")
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(foreign.signing!.key);
    expect(await codeOf(() => edgeVerifier(keys).verify(underKnownKid, Date.now()))).toBe(UNVERIFIED);
  });

  it("rejects a user token, wrong typ, wrong iss or aud, and a tampered payload", async () => {
    const user = await testKey("u1", "EdDSA");
    const userToken = await signToken(user, { iss: ISSUER, aud: AUDIENCE });
    const now = Math.floor(Date.now() / 1000);
    const sign = (header: Record<string, unknown>, claims: Record<string, unknown>) =>
      new SignJWT({ sub: "bob", roles: [], iat: now, exp: now + 60, ...claims })
        .setProtectedHeader({ alg: "EdDSA", kid: keys.signing!.kid, ...header })
        .sign(keys.signing!.key);
    const bad = [
      userToken,
      await sign({ typ: "JWT" }, { iss: EDGE_ISSUER, aud: EDGE_AUDIENCE }),
      await sign({ typ: EDGE_TYP }, { iss: ISSUER, aud: EDGE_AUDIENCE }),
      await sign({ typ: EDGE_TYP }, { iss: EDGE_ISSUER, aud: AUDIENCE }),
      withPayload((await edgeSigner(keys).sign(alice)).proof!, { sub: "alice", roles: ["admin"], exp: now + 60 }),
      "not.a.token",
    ];
    const verifier = edgeVerifier(keys);
    for (const proof of bad) expect(await codeOf(() => verifier.verify(proof, Date.now()))).toBe(UNVERIFIED);
  });

  it("rejects outside [iat - skew, exp + skew], also on a cache hit, and accepts an event's past emit time", async () => {
    let now = Date.now();
    const { proof, expiresAt } = await edgeSigner(keys, { ttlSec: 120, now: () => now }).sign(alice);
    const verifier = edgeVerifier(keys, { clockSkewSec: 5 });
    expect(await codeOf(() => verifier.verify(proof!, expiresAt! + 6_000))).toBe(UNVERIFIED);
    expect(await codeOf(() => verifier.verify(proof!, now - 130_000))).toBe(UNVERIFIED);
    await verifier.verify(proof!, now);
    expect(await codeOf(() => verifier.verify(proof!, expiresAt! + 6_000))).toBe(UNVERIFIED);
    expect(() => verifier.verify(proof!, now - 10_000)).toThrow(FlotillaError);
    // A redelivered event, handled after the assertion expired, is checked at its emit time.
    now += 600_000;
    const fresh = edgeVerifier(keys, { clockSkewSec: 5 });
    expect((await fresh.verify(proof!, expiresAt! - 1_000)).subject).toBe("alice");
  });
});
