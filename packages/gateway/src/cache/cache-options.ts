/** @module Response caching's declarations: what a route says about caching its answers, and the gateway's limits. */
import { type EventDataOf, type EventRef, FlotillaCodes, FlotillaError } from "@flotilla/core";

/** A dimension of the caller a route's answers differ by, beyond the request itself. */
export type CacheVary = "tier" | "roles" | "tenant";

/** Drops cached answers when an event arrives, on every gateway (see `invalidateOn`). */
export interface CacheInvalidation {
  readonly event: EventRef;
  /** The tags whose entries the event drops; absent: every entry of the route that declares the rule. */
  readonly tags?: ((data: unknown) => readonly string[]) | undefined;
}

/** What a GET route declares to have its answers cached at the gateway. */
export interface RouteCacheSpec<O = unknown> {
  /** Seconds an answer is served from the gateway's cache. */
  ttlSec: number;
  /**
   * Seconds clients (and caches downstream) may reuse an answer without asking again: the `max-age` of
   * `Cache-Control`; `ttlSec` (in whole seconds) by default. 0 has them revalidate each time (a cheap 304 when nothing
   * changed): the choice for answers an event drops, which only the gateway learns of.
   */
  clientMaxAgeSec?: number;
  /** Dimensions of the caller the answer differs by, each part of the key: the tier, roles or tenant it has. */
  varyBy?: readonly CacheVary[];
  /**
   * The answer is the same for every caller: one entry serves the signed-in and the anonymous alike.
   * False by default: a signed-in caller's answers are cached for that caller alone.
   */
  shared?: boolean;
  /** Tags of an answer (e.g. `product:<id>`), which invalidation rules and write routes name to drop it. */
  tags?: (output: O) => readonly string[];
  /** Events that drop this route's entries, on every gateway; see `onEvent`. */
  invalidateOn?: readonly CacheInvalidation[];
}

/** An invalidation rule typed by its event: `onEvent(catalog.ProductUpdated, (p) => [\`product:${p.id}\`])`. */
export function onEvent<E extends EventRef>(
  event: E,
  tags?: (data: EventDataOf<E>) => readonly string[],
): CacheInvalidation {
  return { event, tags: tags as CacheInvalidation["tags"] };
}

/** A route's cache declaration, checked and with its defaults, as the gateway keeps it. */
export interface CacheRule {
  readonly ttlMs: number;
  readonly clientMaxAgeSec: number;
  readonly varyBy: readonly CacheVary[];
  readonly shared: boolean;
  readonly tags: ((output: unknown) => readonly string[]) | undefined;
  readonly invalidateOn: readonly CacheInvalidation[];
  /** The tag every entry of the route carries: its path template, so a rule can name the whole route. */
  readonly routeTag: string;
}

/** What the response cache reports; `cacheMetrics()` of @flotilla/telemetry makes one backed by prom-client. */
export interface CacheMetrics {
  /** An answer served from the cache, by route template. */
  hit(route: string): void;
  /** An answer fetched from the action (a miss, a revalidation or a bypass), by route template. */
  miss(route: string): void;
  /** Entries dropped to keep the cache within its bytes. */
  evicted(count: number): void;
  /** Entries dropped by an event or a write route. */
  invalidated(count: number): void;
  /** Called once with a reader of the bytes the cache holds, for a gauge read when scraped. */
  observeBytes(read: () => number): void;
}

/** The gateway's `cache` option. */
export interface GatewayCacheOptions {
  /** Bytes all entries together may take (their estimated memory); least recently used ones go first (64 MiB). */
  maxBytes?: number;
  /** The largest answer kept; a larger one is served but not stored (1 MiB, at most `maxBytes`). */
  maxEntryBytes?: number;
  metrics?: CacheMetrics;
}

export const CACHE_DEFAULTS = { maxBytes: 64 * 1024 * 1024, maxEntryBytes: 1024 * 1024 } as const;

export interface ResolvedCacheOptions {
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  readonly metrics: CacheMetrics | undefined;
}

export function resolveCacheOptions(options: GatewayCacheOptions = {}): ResolvedCacheOptions {
  const maxBytes = options.maxBytes ?? CACHE_DEFAULTS.maxBytes;
  if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0)) throw config(`cache maxBytes must be a positive integer`);
  const maxEntryBytes = options.maxEntryBytes ?? Math.min(CACHE_DEFAULTS.maxEntryBytes, maxBytes);
  if (!(Number.isSafeInteger(maxEntryBytes) && maxEntryBytes > 0 && maxEntryBytes <= maxBytes)) {
    throw config(`cache maxEntryBytes must be a positive integer no larger than maxBytes`);
  }
  return { maxBytes, maxEntryBytes, metrics: options.metrics };
}

const VARY: ReadonlySet<string> = new Set<CacheVary>(["tier", "roles", "tenant"]);

/** Checks a route's declaration; `where` names the route in errors. */
export function cacheRule(spec: RouteCacheSpec<never>, where: string, path: string): CacheRule {
  const ttlMs = spec.ttlSec * 1000;
  if (!(Number.isFinite(ttlMs) && ttlMs >= 1)) throw config(`${where}: cache ttlSec must be positive`);
  const clientMaxAgeSec = spec.clientMaxAgeSec ?? Math.floor(spec.ttlSec);
  if (!(Number.isInteger(clientMaxAgeSec) && clientMaxAgeSec >= 0)) {
    throw config(`${where}: cache clientMaxAgeSec must be a whole number of seconds, 0 or more`);
  }
  const varyBy = [...new Set(spec.varyBy ?? [])].sort();
  for (const dimension of varyBy) {
    if (!VARY.has(dimension)) throw config(`${where}: cache cannot vary by "${dimension}" (tier, roles or tenant)`);
  }
  for (const rule of spec.invalidateOn ?? []) {
    if (rule?.event?.kind !== "event") throw config(`${where}: cache invalidateOn needs events (use onEvent)`);
  }
  return Object.freeze({
    ttlMs,
    clientMaxAgeSec,
    varyBy,
    shared: spec.shared ?? false,
    tags: spec.tags as CacheRule["tags"],
    invalidateOn: spec.invalidateOn ?? [],
    routeTag: path,
  });
}

export function config(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}
