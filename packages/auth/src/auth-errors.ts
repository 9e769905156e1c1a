/** @module Error codes raised by authentication: tokens, key sources, edge assertions, credentials. */
import { FlotillaCodes, FlotillaError, type Status } from "@flotilla/core";

/**
 * Codes @flotilla/auth and the gateway's auth policies raise. Never reuse a code. Messages never echo
 * a token, a key or an assertion: they end up in logs and in answers to whoever sent them.
 */
export const AuthCodes = {
  /** Malformed, unsigned, wrongly signed, from an unknown issuer or key, wrong `iss`/`aud`, … */
  TOKEN_INVALID: { code: "FLOTILLA_TOKEN_INVALID", status: "UNAUTHENTICATED" },
  TOKEN_EXPIRED: { code: "FLOTILLA_TOKEN_EXPIRED", status: "UNAUTHENTICATED" },
  /** `nbf` (beyond the clock skew) is still ahead: the client's clock or the issuer's is off. */
  TOKEN_NOT_YET_VALID: { code: "FLOTILLA_TOKEN_NOT_YET_VALID", status: "UNAUTHENTICATED" },
  /**
   * More than one credential on one request. INVALID_ARGUMENT (400), not 401: the request itself is
   * malformed whatever the credentials are worth, which is what RFC 6750 §3.1 says (`invalid_request`,
   * "uses more than one method for including an access token"); a 401 would invite a retry with new ones.
   */
  CREDENTIALS_CONFLICT: { code: "FLOTILLA_CREDENTIALS_CONFLICT", status: "INVALID_ARGUMENT" },
  /** An `Authorization` header that is not `Bearer <token>`, or an empty API key. */
  CREDENTIALS_MALFORMED: { code: "FLOTILLA_CREDENTIALS_MALFORMED", status: "UNAUTHENTICATED" },
  /** An `access_token` query parameter on a route that does not accept one (URLs end up in logs). */
  QUERY_TOKEN_NOT_ALLOWED: { code: "FLOTILLA_QUERY_TOKEN_NOT_ALLOWED", status: "INVALID_ARGUMENT" },
  API_KEY_INVALID: { code: "FLOTILLA_API_KEY_INVALID", status: "UNAUTHENTICATED" },
  /** The key source is unreachable and nothing is cached: nobody can be verified, so retry later. */
  KEYS_UNAVAILABLE: { code: "FLOTILLA_KEYS_UNAVAILABLE", status: "UNAVAILABLE" },
  /** An edge assertion (`ctx.caller`'s proof) that is forged, tampered, expired or not an assertion. */
  /** Core's own code (a host refuses such a request), raised here by the verifier that decides it. */
  CALLER_UNVERIFIED: FlotillaCodes.CALLER_UNVERIFIED,
} as const satisfies Record<string, { code: string; status: Status }>;

export type AuthCode = (typeof AuthCodes)[keyof typeof AuthCodes];

export function authError(entry: AuthCode, message: string, cause?: unknown): FlotillaError {
  return FlotillaError.of(entry, message, cause === undefined ? {} : { cause });
}
