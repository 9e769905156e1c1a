/** @module Verifies bearer JWTs from configured issuers and turns them into identities, with a cache. */
import type { Identity } from "@flotilla/core";
import { decodeJwt, errors, type JWTPayload, jwtVerify } from "jose";
import { AuthCodes, authError } from "./auth-errors.js";
import { ExpiringCache } from "./expiring-cache.js";
import { KeySet, type KeySetOptions } from "./key-set.js";
import type { KeySource } from "./key-source.js";
import { checkHeader, MAX_TOKEN_LENGTH } from "./token-header.js";

export interface IssuerConfig {
  /** Exact `iss` value. */
  issuer: string;
  /** Accepted `aud` value(s): the token must name one. */
  audience: string | readonly string[];
  keys: KeySource;
  /** Algorithms this issuer's keys may be pinned to (ES256, EdDSA); add RS256 for external issuers. */
  algorithms?: readonly string[];
  /** Claims to identity; the default reads `sub`, `roles` (strings) and `tier`. */
  toIdentity?(claims: JWTPayload): Identity;
  /** This issuer's refetch floor and refresh age, over the verifier's `keySet` (e.g. a lower floor for an in-cluster source). */
  keySet?: Pick<KeySetOptions, "minRefetchMs" | "maxAgeMs">;
}

export interface TokenVerifierOptions {
  issuers: readonly IssuerConfig[];
  /** Tolerated clock difference for `exp` and `nbf` (30 s). */
  clockSkewSec?: number;
  /** Verified tokens kept until their `exp` (max 10 000 entries); false disables. */
  cache?: { max?: number } | false;
  /** Refetch floor and background refresh of every issuer's key set. */
  keySet?: Pick<KeySetOptions, "minRefetchMs" | "maxAgeMs">;
  now?: () => number;
}

export interface VerifiedToken {
  readonly identity: Identity;
  /** Epoch ms of the token's `exp`. */
  readonly expiresAt: number;
  readonly issuer: string;
}

export interface TokenVerifier {
  /** Rejects with a FlotillaError (TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_NOT_YET_VALID, KEYS_UNAVAILABLE). */
  verify(token: string): Promise<VerifiedToken>;
  /** A token verified before and not yet expired, without a promise; undefined otherwise. */
  cached(token: string): VerifiedToken | undefined;
}

interface Issuer {
  readonly config: IssuerConfig;
  readonly keys: KeySet;
  readonly audience: string[];
  readonly toIdentity: (claims: JWTPayload) => Identity;
}

export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const now = opts.now ?? Date.now;
  const skewSec = opts.clockSkewSec ?? 30;
  const cache = opts.cache === false ? undefined : new ExpiringCache<VerifiedToken>(opts.cache?.max ?? 10_000);
  const issuers = new Map<string, Issuer>();
  for (const config of opts.issuers) {
    const keys = new KeySet(config.keys, { ...opts.keySet, ...config.keySet, algorithms: config.algorithms, now });
    const audience = typeof config.audience === "string" ? [config.audience] : [...config.audience];
    issuers.set(config.issuer, { config, keys, audience, toIdentity: config.toIdentity ?? defaultIdentity });
  }

  async function verifyUncached(token: string): Promise<VerifiedToken> {
    if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) throw invalid("token is malformed or too long");
    const issuer = issuers.get(unverifiedIssuer(token));
    if (issuer === undefined) throw invalid("token issuer is not trusted");
    const header = checkHeader(token, issuer.keys.algorithms, AuthCodes.TOKEN_INVALID);
    const key = await issuer.keys.key(header.kid, header.alg);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        issuer: issuer.config.issuer,
        audience: issuer.audience,
        algorithms: [header.alg],
        clockTolerance: skewSec,
        requiredClaims: ["exp"],
        currentDate: new Date(now()),
      }));
    } catch (err) {
      throw fromJose(err);
    }
    let identity: Identity;
    try {
      identity = issuer.toIdentity(payload);
    } catch (err) {
      throw authError(AuthCodes.TOKEN_INVALID, "token claims do not make an identity", err);
    }
    return Object.freeze({ identity, expiresAt: (payload.exp as number) * 1000, issuer: issuer.config.issuer });
  }

  return {
    cached: (token) => cache?.get(token, now()),
    async verify(token) {
      const hit = cache?.get(token, now());
      if (hit !== undefined) return hit;
      const verified = await verifyUncached(token);
      // Never kept beyond exp, even though the clock skew would still accept it a little longer.
      cache?.set(token, verified, verified.expiresAt);
      return verified;
    },
  };
}

/** The default claims mapping: `sub`, `roles` (array of strings, else none) and `tier`. */
export function defaultIdentity(claims: JWTPayload): Identity {
  const { sub, roles, tier, tenant } = claims;
  if (typeof sub !== "string" || sub.length === 0) throw new TypeError("sub is missing");
  const identity: { subject: string; roles: readonly string[]; tier?: string; tenant?: string } = {
    subject: sub,
    roles: Array.isArray(roles)
      ? Object.freeze(roles.filter((r): r is string => typeof r === "string"))
      : Object.freeze([]),
  };
  if (typeof tier === "string") identity.tier = tier;
  if (typeof tenant === "string") identity.tenant = tenant;
  return Object.freeze(identity);
}

/** `iss` before verification, only to pick which issuer's keys and rules apply. */
function unverifiedIssuer(token: string): string {
  try {
    const { iss } = decodeJwt(token);
    if (typeof iss === "string") return iss;
  } catch {
    // Falls through: malformed.
  }
  throw invalid("token is malformed or names no issuer");
}

function fromJose(err: unknown) {
  if (err instanceof errors.JWTExpired) return authError(AuthCodes.TOKEN_EXPIRED, "token has expired");
  if (err instanceof errors.JWTClaimValidationFailed && err.claim === "nbf") {
    return authError(AuthCodes.TOKEN_NOT_YET_VALID, "token is not valid yet");
  }
  if (err instanceof errors.JWTClaimValidationFailed) return invalid(`token claim "${err.claim}" is not acceptable`);
  return invalid("token signature or format is invalid");
}

function invalid(message: string) {
  return authError(AuthCodes.TOKEN_INVALID, message);
}
