/** @module What a policy means for the API description: credentials it takes, whether it needs a caller, what it answers. */
import type { Status } from "@flotilla/core";
import type { Policy } from "../policy.js";

export type CredentialKind = "bearer" | "apiKey";

/** An error a policy can answer with: its code and status category (the HTTP status follows, as for any error). */
export interface DocumentedError {
  readonly code: string;
  readonly status: Status;
  /** Headers that answer carries, e.g. `retry-after`. */
  readonly headers?: readonly string[];
}

export interface PolicyDoc {
  /** Credentials an authentication policy verifies when a request carries one. */
  readonly credentials?: readonly CredentialKind[];
  /** The route answers only an authenticated caller. */
  readonly requiresCaller?: boolean;
  readonly errors?: readonly DocumentedError[];
}

// Kept beside the policy objects rather than on them: the Policy interface stays what requests need.
const docs = new WeakMap<Policy, PolicyDoc>();

/** Attaches a description to a policy (the built-in ones do); returns the policy. */
export function documentPolicy<P extends Policy>(policy: P, doc: PolicyDoc): P {
  docs.set(policy, doc);
  return policy;
}

/** A policy's description; undefined for a policy nobody described (it then adds nothing to the document). */
export function policyDoc(policy: Policy): PolicyDoc | undefined {
  return docs.get(policy);
}
