/** @module Test keys and tokens: real key pairs from jose, and tokens signed (or forged) with them. */
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";

export interface TestKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  /** The public JWK with kid, alg and use, as a JWKS publishes it. */
  readonly jwk: JWK;
}

export async function testKey(kid: string, alg: "ES256" | "EdDSA" | "RS256" = "ES256"): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

export const ISSUER = "https://id.flotilla.test";
export const AUDIENCE = "flotilla-api";

/** A token of ISSUER for AUDIENCE, valid 10 minutes, unless the claims or header say otherwise. */
export function signToken(
  key: TestKey,
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "user-1",
    roles: ["customer"],
    iat: now,
    exp: now + 600,
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An unsigned token with any header, e.g. `alg: "nOnE"`, which no library would produce. */
export function unsignedToken(header: Record<string, unknown>, claims: JWTPayload = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64(header)}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: "user-1", exp: now + 600, ...claims })}.`;
}

/** Replaces a token's payload, keeping its header and signature. */
export function withPayload(token: string, claims: JWTPayload): string {
  const [header, , signature] = token.split(".");
  return `${header}.${b64(claims)}.${signature}`;
}
