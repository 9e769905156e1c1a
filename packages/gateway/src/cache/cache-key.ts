/** @module Cache keys: the route, what its action receives, the caller's declared dimensions, and who, for private answers. */
import type { Identity } from "@flotilla/core";
import type { CacheRule, CacheVary } from "./cache-options.js";

/** A request's place in the cache, and whether its answer may be told to be public. */
export interface CacheKey {
  readonly key: string;
  /** The answer is the same for every caller (a shared route without vary dimensions): `Cache-Control: public`. */
  readonly isPublic: boolean;
}

/**
 * The key is built from the action's validated input, not from the raw query: parameters the input
 * schema does not know are already stripped and defaults filled in, so `?utm=…` neither splits nor
 * busts the cache, and `?limit=20` shares the entry of a request that leaves the default of 20. A
 * signed-in caller's answer is keyed by its subject unless the route declares its answers shared.
 */
export function cacheKeyOf(
  method: string,
  path: string,
  input: unknown,
  caller: Identity | undefined,
  rule: CacheRule,
): CacheKey {
  const parts: unknown[] = [method, path, canonical(input)];
  for (const dimension of rule.varyBy) parts.push(dimensionOf(caller, dimension));
  const isPrivate = caller !== undefined && !rule.shared;
  if (isPrivate) parts.push({ user: caller.subject });
  return { key: JSON.stringify(parts), isPublic: rule.shared && rule.varyBy.length === 0 };
}

function dimensionOf(caller: Identity | undefined, dimension: CacheVary): unknown {
  // Distinct from a signed-in caller without the claim: the service sees no caller at all.
  if (caller === undefined) return { [dimension]: "anonymous" };
  switch (dimension) {
    case "tier":
      return { tier: caller.tier ?? null };
    case "tenant":
      return { tenant: caller.tenant ?? null };
    case "roles":
      return { roles: [...caller.roles].sort() };
  }
}

/** The value with object keys sorted at every depth, so equal inputs make equal keys. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(value).sort()) out[name] = canonical((value as Record<string, unknown>)[name]);
  return out;
}
