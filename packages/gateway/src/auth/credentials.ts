/** @module Finds the one credential a request carries: a bearer token, an `access_token` parameter, or an API key. */
import { AuthCodes } from "@flotilla/auth";
import { authError, MAX_TOKEN_LENGTH } from "@flotilla/auth/internal";
import type { RequestView } from "../route.js";

export type Credential =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "api-key"; readonly key: string };

/** RFC 6750 §2.1: `Bearer` (any case), one space, a b64token. */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;
const MAX_API_KEY_LENGTH = 256;
export const QUERY_TOKEN = "access_token";

/**
 * The request's credential, or undefined when it carries none. Two credentials (of any kinds, or the
 * same parameter twice) are refused rather than one picked: which one wins would be a guess, and an
 * attacker's guess to steer.
 */
export function credentialOf(request: RequestView, queryTokenAllowed: boolean): Credential | undefined {
  const found: Credential[] = [];
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = typeof authorization === "string" ? BEARER.exec(authorization) : null;
    if (match === null) throw authError(AuthCodes.CREDENTIALS_MALFORMED, "Authorization must be `Bearer <token>`");
    found.push({ kind: "token", token: match[1]! });
  }
  const query = request.query[QUERY_TOKEN];
  if (query !== undefined) {
    if (!queryTokenAllowed) {
      throw authError(AuthCodes.QUERY_TOKEN_NOT_ALLOWED, `this route does not accept an ${QUERY_TOKEN} parameter`);
    }
    if (Array.isArray(query)) throw authError(AuthCodes.CREDENTIALS_CONFLICT, `${QUERY_TOKEN} is repeated`);
    found.push({ kind: "token", token: query });
  }
  const apiKey = request.headers["x-api-key"];
  if (apiKey !== undefined) {
    if (typeof apiKey !== "string" || apiKey.length === 0 || apiKey.length > MAX_API_KEY_LENGTH) {
      throw authError(AuthCodes.CREDENTIALS_MALFORMED, "X-API-Key is empty, repeated or too long");
    }
    found.push({ kind: "api-key", key: apiKey });
  }
  if (found.length > 1) throw authError(AuthCodes.CREDENTIALS_CONFLICT, "the request carries more than one credential");
  const credential = found[0];
  if (credential?.kind === "token" && (credential.token.length === 0 || credential.token.length > MAX_TOKEN_LENGTH)) {
    throw authError(AuthCodes.TOKEN_INVALID, "token is empty or too long");
  }
  return credential;
}
