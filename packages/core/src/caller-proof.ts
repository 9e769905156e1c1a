/** @module How a host decides who is calling when the caller arrives over a wire: a verified proof, never a claim. */
import type { Identity } from "./context.js";
import { FlotillaCodes, FlotillaError } from "./errors.js";

/**
 * Checks the proof a request or an event carries (the `flotilla-caller` header: an assertion the edge
 * signed) and returns the identity it proves, with `proof` and `expiresAt` set so calls made while
 * handling it can carry it on. `at` is the moment the proof must be valid at: now for a request, the
 * emission time for an event (so an event redelivered later still says who caused it).
 * Throws a FlotillaError (UNAUTHENTICATED) when the proof fails. Returns synchronously when it can
 * (a proof verified before), so the common case costs no promise.
 */
export interface CallerVerifier {
  verify(proof: string, at: number): Identity | Promise<Identity>;
}

/** A proof arrived but this host was given no keys to check it against: refused, never trusted. */
export function noCallerVerifier(): FlotillaError {
  return FlotillaError.of(
    FlotillaCodes.CALLER_UNVERIFIED,
    "the request carries a caller, but this host has no keys to verify callers with",
  );
}
