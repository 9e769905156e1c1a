/** @module API key lookups with a short cache, so a machine client does not cost a lookup per request. */

import { ExpiringCache } from "@flotilla/auth/internal";
import type { Identity } from "@flotilla/core";

export type ApiKeyLookup = (key: string) => Promise<Identity | undefined>;

export interface ApiKeyCacheOptions {
  /** How long a found key's identity is reused (30 s): also how long a revoked key keeps working. */
  ttlMs?: number;
  /** How long an unknown key stays unknown (2 s): long enough to absorb a burst, short for a key just issued. */
  failureTtlMs?: number;
  max?: number;
}

export function cachedApiKeys(lookup: ApiKeyLookup, opts: ApiKeyCacheOptions = {}): ApiKeyLookup {
  const ttlMs = opts.ttlMs ?? 30_000;
  const failureTtlMs = Math.min(opts.failureTtlMs ?? 2_000, 5_000);
  // The promise is cached, so concurrent requests with one key share one lookup.
  const cache = new ExpiringCache<Promise<Identity | undefined>>(opts.max ?? 10_000);
  return (key) => {
    const now = Date.now();
    const hit = cache.get(key, now);
    if (hit !== undefined) return hit;
    const pending = (async () => lookup(key))();
    cache.set(key, pending, now + ttlMs);
    pending.then(
      (identity) => {
        if (identity === undefined) cache.set(key, pending, Date.now() + failureTtlMs);
      },
      // A lookup that failed (a database down) is not an answer about the key: ask again next time.
      () => cache.delete(key),
    );
    return pending;
  };
}
