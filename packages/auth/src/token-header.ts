/** @module Checks on a token's protected header made before any key lookup or signature check. */
import { decodeProtectedHeader, type ProtectedHeaderParameters } from "jose";
import { type AuthCode, authError } from "./auth-errors.js";

/** Asymmetric signature algorithms only: HMAC with a public key as the secret is the classic confusion. */
export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
]);

export const DEFAULT_ALGORITHMS: readonly string[] = ["ES256", "EdDSA"];

/** A kid is looked up in a map, but it also reaches logs and maybe a path or a query one day: keep it plain. */
export const SAFE_KID = /^[A-Za-z0-9._-]{1,128}$/;

/** Compact JWS tokens longer than this are refused unparsed (8 KiB, well beyond any real token). */
export const MAX_TOKEN_LENGTH = 8 * 1024;

/**
 * Headers that point at keys (`jku`, `x5u`) or carry them (`jwk`, `x5c`) let the token choose who
 * vouches for it; `crit` asks for extensions nobody here implements. A token carrying any is refused.
 */
const FORBIDDEN = ["jku", "x5u", "jwk", "x5c", "crit"] as const;

export interface CheckedHeader {
  readonly alg: string;
  readonly kid: string | undefined;
  readonly typ: string | undefined;
}

/** Decodes and checks the header; throws `code` for anything unacceptable, never echoing the token. */
export function checkHeader(token: unknown, allowed: ReadonlySet<string>, code: AuthCode): CheckedHeader {
  if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    throw authError(code, "token is empty or too long");
  }
  if (token.split(".").length !== 3) throw authError(code, "token is not a compact JWS");
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw authError(code, "token is malformed");
  }
  for (const name of FORBIDDEN) {
    if (name in header) throw authError(code, `token header carries "${name}"`);
  }
  const { alg, kid, typ } = header;
  if (typeof alg !== "string" || !allowed.has(alg)) throw authError(code, "token algorithm is not allowed");
  if (kid !== undefined && (typeof kid !== "string" || !SAFE_KID.test(kid))) {
    throw authError(code, "token kid is malformed");
  }
  return { alg, kid, typ: typeof typ === "string" ? typ : undefined };
}
