/** @module What an edge assertion is: the gateway's signed statement of who a caller is, and its verifier type. */
import type { CallerVerifier, Identity } from "@flotilla/core";

/** Core's interface: what a host checks a caller's proof with. */
export type { CallerVerifier };

export const EDGE_ISSUER = "flotilla:edge";
export const EDGE_AUDIENCE = "flotilla:internal";
/** A `typ` of its own, so no other JWT (a user's, an issuer's) can pass as an assertion, nor the reverse. */
export const EDGE_TYP = "flotilla-caller+jwt";

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
