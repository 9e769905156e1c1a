/** @module Signs edge assertions for authenticated callers, reusing one per identity for minutes. */
import { FlotillaCodes, FlotillaError, type Identity } from "@flotilla/core";
import { SignJWT } from "jose";
import { EDGE_AUDIENCE, EDGE_ISSUER, EDGE_TYP, plainIdentity } from "./edge-assertion.js";
import { EDGE_ALG, type EdgeKeys } from "./edge-keys.js";
import { ExpiringCache } from "./expiring-cache.js";

export interface EdgeSignerOptions {
  /** Lifetime of an assertion (300 s). */
  ttlSec?: number;
  /** An assertion with less life than this left is not handed out again (60 s): it must outlive the work. */
  renewBeforeMs?: number;
  /** Distinct identities whose assertion is kept (10 000). */
  cacheMax?: number;
  now?: () => number;
}

export interface EdgeSigner {
  /** The identity with `proof` (the assertion) and `expiresAt` (its `exp`, epoch ms). */
  sign(identity: Identity): Promise<Identity>;
}

export function edgeSigner(keys: EdgeKeys, opts: EdgeSignerOptions = {}): EdgeSigner {
  const signing = keys.signing;
  if (signing === undefined) throw FlotillaError.of(FlotillaCodes.CONFIG, "edge keys hold no private key to sign with");
  const ttlSec = opts.ttlSec ?? 300;
  const renewBeforeMs = opts.renewBeforeMs ?? 60_000;
  if (!(ttlSec * 1000 > renewBeforeMs)) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, "edge assertion ttlSec must exceed renewBeforeMs");
  }
  const now = opts.now ?? Date.now;
  // Promises are cached, so concurrent requests of one identity share one signature.
  const cache = new ExpiringCache<Promise<Identity>>(opts.cacheMax ?? 10_000);

  async function signFresh(identity: Identity, iat: number): Promise<Identity> {
    const exp = iat + ttlSec;
    const claims: Record<string, unknown> = { roles: identity.roles };
    if (identity.tier !== undefined) claims.tier = identity.tier;
    if (identity.tenant !== undefined) claims.tenant = identity.tenant;
    const proof = await new SignJWT(claims)
      .setProtectedHeader({ alg: EDGE_ALG, kid: signing!.kid, typ: EDGE_TYP })
      .setIssuer(EDGE_ISSUER)
      .setAudience(EDGE_AUDIENCE)
      .setSubject(identity.subject)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(signing!.key);
    return Object.freeze({ ...identity, proof, expiresAt: exp * 1000 });
  }

  // A frozen identity (the token verifier's cached ones are) cannot change, so its key is built once per
  // object rather than serialized on every request.
  const cacheKeys = new WeakMap<Identity, string>();
  const keyOf = (identity: Identity): string => {
    let key = cacheKeys.get(identity);
    if (key === undefined) {
      key = JSON.stringify([identity.subject, [...identity.roles], identity.tier ?? null, identity.tenant ?? null]);
      if (Object.isFrozen(identity) && Object.isFrozen(identity.roles)) cacheKeys.set(identity, key);
    }
    return key;
  };

  return {
    sign(identity) {
      const key = keyOf(identity);
      const at = now();
      const hit = cache.get(key, at);
      if (hit !== undefined) return hit;
      const iat = Math.floor(at / 1000);
      const signed = signFresh(plainIdentity(identity), iat);
      cache.set(key, signed, (iat + ttlSec) * 1000 - renewBeforeMs);
      signed.catch(() => cache.delete(key));
      return signed;
    },
  };
}
