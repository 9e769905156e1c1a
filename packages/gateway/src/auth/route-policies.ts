/** @module Route policies on the authenticated caller: required, by role, by tier; and query tokens per route. */
import { FlotillaError, type Identity } from "@flotilla/core";
import { type DocumentedError, documentPolicy } from "../openapi/policy-docs.js";
import type { Exchange, Policy } from "../policy.js";
import type { Route } from "../route.js";

const QUERY_TOKEN_MARKER: Policy = Object.freeze({ name: "allow-query-token" });

/**
 * Lets `authenticate` accept `?access_token=` on this route. A marker, not a hook: `authenticate`
 * runs as a global policy before any route policy, so it reads the route's list instead.
 */
export function allowQueryToken(): Policy {
  return QUERY_TOKEN_MARKER;
}

export function acceptsQueryToken(route: Route): boolean {
  return route.policies.includes(QUERY_TOKEN_MARKER);
}

/** 401 with `WWW-Authenticate: Bearer` when nobody is authenticated. */
export function authenticated(): Policy {
  const policy: Policy = { name: "authenticated", onRequest: (exchange) => void callerOf(exchange) };
  return documentPolicy(policy, { requiresCaller: true, errors: [UNAUTHENTICATED] });
}

/** 403 unless the caller has at least one of the roles (401 without a caller). */
export function requireRole(...roles: string[]): Policy {
  return requireAny("require-role", roles, (caller) => caller.roles, "role");
}

/** 403 unless the caller's tier is one of these (401 without a caller). */
export function requireTier(...tiers: string[]): Policy {
  return requireAny("require-tier", tiers, (caller) => (caller.tier === undefined ? [] : [caller.tier]), "tier");
}

function requireAny(
  name: string,
  wanted: string[],
  held: (caller: Identity) => readonly string[],
  what: string,
): Policy {
  if (wanted.length === 0) throw new TypeError(`${name} needs at least one ${what}`);
  const accepted = new Set(wanted);
  return documentPolicy(
    {
      name,
      onRequest(exchange) {
        if (!held(callerOf(exchange)).some((value) => accepted.has(value))) {
          // The required values are the route's, not secrets: saying them helps the client ask for access.
          throw new FlotillaError("PERMISSION_DENIED", `requires ${what} ${wanted.join(" or ")}`);
        }
      },
    },
    { requiresCaller: true, errors: [UNAUTHENTICATED, { code: "PERMISSION_DENIED", status: "PERMISSION_DENIED" }] },
  );
}

const UNAUTHENTICATED: DocumentedError = { code: "UNAUTHENTICATED", status: "UNAUTHENTICATED" };

function callerOf(exchange: Exchange): Identity {
  const caller = exchange.caller;
  if (caller === undefined) {
    exchange.setHeader("www-authenticate", "Bearer");
    throw new FlotillaError("UNAUTHENTICATED", "authentication required");
  }
  return caller;
}
