/** @module What an edge assertion is: the gateway's signed statement of who a caller is, and its verifier type. */
import type { Identity } from "@flotilla/core";

export const EDGE_ISSUER = "flotilla:edge";
export const EDGE_AUDIENCE = "flotilla:internal";
/** A `typ` of its own, so no other JWT (a user's, an issuer's) can pass as an assertion, nor the reverse. */
export const EDGE_TYP = "flotilla-caller+jwt";

/**
 * Checks the proof a caller identity carries across a wire. Structurally the `CallerVerifier` the core
 * will declare. `at` is when the work is handled (a request) or was caused (an event's emit time, so a
 * redelivered event still carries who caused it). Returns synchronously when the proof was verified
 * before; throws (or rejects) a FlotillaError FLOTILLA_CALLER_UNVERIFIED.
 */
export interface CallerVerifier {
  verify(proof: string, at: number): Identity | Promise<Identity>;
}

/** The fields an assertion states, without any proof a given identity already carries. */
export function plainIdentity(identity: Identity): Identity {
  const plain: { subject: string; roles: readonly string[]; tier?: string; tenant?: string } = {
    subject: identity.subject,
    roles: Object.freeze([...identity.roles]),
  };
  if (identity.tier !== undefined) plain.tier = identity.tier;
  if (identity.tenant !== undefined) plain.tenant = identity.tenant;
  return plain;
}
