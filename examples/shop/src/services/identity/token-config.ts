/** @module What the identity service and the gateway must agree on to issue and verify the shop's tokens. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";

/** The only algorithm tokens are signed with; verifiers pin it (never trust a token's own `alg`). */
export const TOKEN_ALG = "ES256";

/** The `aud` of every token the identity service issues: the shop's public API. */
export const SHOP_AUDIENCE = "shop-api";

const DEFAULT_PUBLIC_URL = "http://localhost:8080";
const DEFAULT_TOKEN_TTL_SEC = 15 * 60;

type Env = Readonly<Record<string, string | undefined>>;

/** The `iss` of the shop's tokens: the public URL the gateway serves (`FLOTILLA_PUBLIC_URL`), without a trailing slash. */
export function shopIssuer(env: Env = process.env): string {
  const url = env.FLOTILLA_PUBLIC_URL?.trim() || DEFAULT_PUBLIC_URL;
  try {
    new URL(url);
  } catch {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `FLOTILLA_PUBLIC_URL must be an absolute URL, got "${url}"`);
  }
  // The issuer is compared as a string by verifiers, so "http://x/" and "http://x" must not both occur.
  return url.replace(/\/+$/, "");
}

/** Where the issuer publishes its public keys (what the gateway's remote JWKS fetches). */
export function shopJwksUri(issuer: string = shopIssuer()): string {
  return `${issuer}/.well-known/jwks.json`;
}

/** Lifetime of an access token in seconds: `SHOP_TOKEN_TTL_SEC`, 15 minutes by default. */
export function tokenTtlSec(env: Env = process.env): number {
  const raw = env.SHOP_TOKEN_TTL_SEC?.trim();
  if (!raw) return DEFAULT_TOKEN_TTL_SEC;
  const ttl = Number(raw);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 24 * 3600) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `SHOP_TOKEN_TTL_SEC must be whole seconds in 1..86400, got "${raw}"`);
  }
  return ttl;
}
