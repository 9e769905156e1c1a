/** @module Access tokens: ES256 JWTs naming the user, their roles and tier, for the gateway to verify. */
import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { ActiveKey } from "./signing-keys.js";
import { SHOP_AUDIENCE, TOKEN_ALG } from "./token-config.js";

export interface TokenSubject {
  id: string;
  roles: readonly string[];
  tier: string;
}

export interface IssuedToken {
  token: string;
  /** Epoch seconds. */
  expiresAt: number;
}

export async function issueToken(
  key: ActiveKey,
  subject: TokenSubject,
  { issuer, ttlSec }: { issuer: string; ttlSec: number },
): Promise<IssuedToken> {
  const now = Math.floor(Date.now() / 1000);
  const expiresAt = now + ttlSec;
  const token = await new SignJWT({ roles: [...subject.roles], tier: subject.tier })
    .setProtectedHeader({ alg: TOKEN_ALG, kid: key.kid, typ: "JWT" })
    .setIssuer(issuer)
    .setAudience(SHOP_AUDIENCE)
    .setSubject(subject.id)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(expiresAt)
    // A unique id per token: what a deny list or a replay check would key on.
    .setJti(randomUUID())
    .sign(key.privateKey);
  return { token, expiresAt };
}
