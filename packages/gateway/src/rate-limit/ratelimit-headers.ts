/**
 * @module The RateLimit and RateLimit-Policy response fields, as draft-ietf-httpapi-ratelimit-headers-10
 * (September 2025) defines them: Structured Field lists of items named by a String, with parameters.
 *
 *   RateLimit-Policy: "standard";q=300;w=60     q = quota (requests), w = window (seconds)
 *   RateLimit: "standard";r=299;t=1             r = remaining quota, t = seconds until more is available
 */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import type { Decision, RateLimit } from "./gcra.js";

/** A policy name as an sf-string: printable ASCII, with `"` and `\` escaped. */
export function sfString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `rate limit policy name "${value}" is not printable ASCII`);
  }
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function rateLimitPolicyField(name: string, limit: RateLimit): string {
  // The draft's window is whole seconds (delay-seconds), never below 1.
  return `${sfString(name)};q=${Math.floor(limit.limit)};w=${Math.max(1, Math.ceil(limit.windowSec))}`;
}

/**
 * `t` is the time until the full burst is back, except on a refusal: there it equals Retry-After, since
 * the draft says Retry-After SHOULD NOT point earlier than `t` (section "Server Behavior").
 */
export function rateLimitField(name: string, d: Decision): string {
  return rateLimitFieldQuoted(sfString(name), d);
}

/** rateLimitField for a name already quoted by sfString: the policy quotes each tier's name once, not per request. */
export function rateLimitFieldQuoted(quotedName: string, d: Decision): string {
  const t = d.allowed ? d.resetSec : d.retryAfterSec;
  return `${quotedName};r=${Math.max(0, d.remaining)};t=${t}`;
}
