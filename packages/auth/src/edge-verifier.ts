/** @module Verifies edge assertions, so a service trusts `ctx.caller` only when the gateway signed it. */
import type { Identity } from "@flotilla/core";
import { type JWTPayload, jwtVerify } from "jose";
import { AuthCodes, authError } from "./auth-errors.js";
import { type CallerVerifier, EDGE_AUDIENCE, EDGE_ISSUER, EDGE_TYP } from "./edge-assertion.js";
import { EDGE_ALG, type EdgeKeys } from "./edge-keys.js";
import { ExpiringCache } from "./expiring-cache.js";
import { checkHeader } from "./token-header.js";

export interface EdgeVerifierOptions {
  /** Tolerated clock difference between the gateway and this process (30 s). */
  clockSkewSec?: number;
  /** Verified assertions kept (10 000), each until its exp plus the skew. */
  cacheMax?: number;
  now?: () => number;
}

interface Verified {
  readonly identity: Identity;
  readonly notBefore: number;
  readonly notAfter: number;
}

const ALGORITHMS: ReadonlySet<string> = new Set([EDGE_ALG]);

export function edgeVerifier(keys: EdgeKeys, opts: EdgeVerifierOptions = {}): CallerVerifier {
  const skewMs = (opts.clockSkewSec ?? 30) * 1000;
  const now = opts.now ?? Date.now;
  const cache = new ExpiringCache<Verified>(opts.cacheMax ?? 10_000);

  function within(verified: Verified, at: number): Identity {
    if (at < verified.notBefore || at > verified.notAfter)
      throw unverified("caller assertion is not valid at that time");
    return verified.identity;
  }

  async function verifyFresh(proof: string, at: number): Promise<Identity> {
    const header = checkHeader(proof, ALGORITHMS, AuthCodes.CALLER_UNVERIFIED);
    if (header.typ !== EDGE_TYP) throw unverified("not a caller assertion");
    const key = header.kid === undefined ? undefined : keys.verifying.get(header.kid);
    if (key === undefined) throw unverified("caller assertion key is unknown");
    let payload: JWTPayload;
    try {
      // jose checks exp (and nbf) against `at`; the iat side of the window is checked below.
      ({ payload } = await jwtVerify(proof, key, {
        issuer: EDGE_ISSUER,
        audience: EDGE_AUDIENCE,
        algorithms: [EDGE_ALG],
        typ: EDGE_TYP,
        currentDate: new Date(at),
        clockTolerance: skewMs / 1000,
        requiredClaims: ["sub", "iat", "exp"],
      }));
    } catch (err) {
      throw authError(AuthCodes.CALLER_UNVERIFIED, "caller assertion does not verify", err);
    }
    const verified: Verified = {
      identity: identityOf(payload, proof),
      notBefore: (payload.iat as number) * 1000 - skewMs,
      notAfter: (payload.exp as number) * 1000 + skewMs,
    };
    cache.set(proof, verified, verified.notAfter);
    return within(verified, at);
  }

  return {
    verify(proof, at) {
      const hit = typeof proof === "string" ? cache.get(proof, now()) : undefined;
      // The hit path stays synchronous: a busy service verifies each caller once per assertion.
      if (hit !== undefined) return within(hit, at);
      return verifyFresh(proof, at);
    },
  };
}

function identityOf(payload: JWTPayload, proof: string): Identity {
  const { sub, roles, tier, tenant, exp } = payload;
  if (typeof sub !== "string" || !Array.isArray(roles) || !roles.every((r) => typeof r === "string")) {
    throw unverified("caller assertion claims are malformed");
  }
  if ((tier !== undefined && typeof tier !== "string") || (tenant !== undefined && typeof tenant !== "string")) {
    throw unverified("caller assertion claims are malformed");
  }
  const identity: Record<string, unknown> = { subject: sub, roles: Object.freeze([...roles]) };
  if (tier !== undefined) identity.tier = tier;
  if (tenant !== undefined) identity.tenant = tenant;
  identity.proof = proof;
  identity.expiresAt = (exp as number) * 1000;
  return Object.freeze(identity) as unknown as Identity;
}

function unverified(message: string) {
  return authError(AuthCodes.CALLER_UNVERIFIED, message);
}
