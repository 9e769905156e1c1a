/**
 * @module The gateway's response cache: entries bounded by their bytes (least recently used go first)
 * and by their TTL, one upstream call per key however many requests miss at once, and dropping by tag.
 */
import { LRUCache } from "lru-cache";
import { etagOf } from "./cache-http.js";
import type { CacheMetrics, ResolvedCacheOptions } from "./cache-options.js";

/** A cached answer: its JSON body as sent, its validator, and the output parsed back (frozen: shared by every hit). */
export interface CacheEntry {
  readonly body: string;
  readonly etag: string;
  readonly output: unknown;
  readonly tags: readonly string[];
  readonly storedAt: number;
  /** Estimated memory: the body text, the parsed output, the key and bookkeeping. */
  readonly size: number;
}

/** What `fetch` answers: the entry, and whether this request found it in the cache, joined a call or made one. */
export interface Fetched {
  readonly entry: CacheEntry | undefined;
  readonly source: "cache" | "joined" | "called";
}

/** A call in flight for one key; invalidation marks it stale so its answer, maybe older than the event, is not stored. */
interface Flight {
  readonly promise: Promise<CacheEntry | undefined>;
  readonly state: { stale: boolean };
}

/** Bytes counted per entry on top of its text: the key, the LRU's slots, the tag index. */
const OVERHEAD_BYTES = 640;

export class ResponseCache {
  private readonly lru: LRUCache<string, CacheEntry>;
  /** Keys of the entries carrying each tag. */
  private readonly byTag = new Map<string, Set<string>>();
  private readonly flights = new Map<string, Flight>();

  constructor(private readonly options: ResolvedCacheOptions) {
    this.lru = new LRUCache<string, CacheEntry>({
      maxSize: options.maxBytes,
      maxEntrySize: options.maxEntryBytes,
      sizeCalculation: (entry) => entry.size,
      dispose: (entry, key, reason) => {
        this.unindex(entry, key);
        if (reason === "evict") options.metrics?.evicted(1);
      },
    });
    options.metrics?.observeBytes(() => this.lru.calculatedSize);
  }

  get metrics(): CacheMetrics | undefined {
    return this.options.metrics;
  }

  /** Bytes the entries take now, as estimated. */
  get bytes(): number {
    return this.lru.calculatedSize;
  }

  get entries(): number {
    return this.lru.size;
  }

  /**
   * The entry for `key`: from the cache, else from the call in flight for the key, else from `load`,
   * whose answer is stored for `ttlMs` (unless `store` is false, or an invalidation came while it ran).
   * A failed load is passed to every request that joined it and never stored.
   */
  async fetch(
    key: string,
    load: () => Promise<unknown>,
    opts: { ttlMs: number; store: boolean; tags: (output: unknown) => readonly string[] },
  ): Promise<Fetched> {
    const cached = this.lru.get(key);
    if (cached !== undefined) return { entry: cached, source: "cache" };
    const inFlight = this.flights.get(key);
    if (inFlight !== undefined) return { entry: await inFlight.promise, source: "joined" };
    if (!opts.store) return { entry: entryOf(key, await load(), opts.tags), source: "called" };
    const state = { stale: false };
    const flight: Flight = { promise: this.loadAndStore(key, load, opts, state), state };
    this.flights.set(key, flight);
    try {
      return { entry: await flight.promise, source: "called" };
    } finally {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    }
  }

  /** Drops every entry carrying one of `tags`, and detaches the calls in flight; answers how many entries went. */
  invalidate(tags: readonly string[]): number {
    this.detachFlights();
    const keys = new Set<string>();
    for (const tag of tags) for (const key of this.byTag.get(tag) ?? []) keys.add(key);
    for (const key of keys) this.lru.delete(key);
    if (keys.size > 0) this.options.metrics?.invalidated(keys.size);
    return keys.size;
  }

  clear(): void {
    this.detachFlights();
    this.lru.clear();
  }

  private async loadAndStore(
    key: string,
    load: () => Promise<unknown>,
    opts: { ttlMs: number; tags: (output: unknown) => readonly string[] },
    state: { readonly stale: boolean },
  ): Promise<CacheEntry | undefined> {
    const entry = entryOf(key, await load(), opts.tags);
    // Stale: an invalidation arrived while the call ran, so its answer may predate the change.
    if (entry !== undefined && !state.stale && entry.size <= this.options.maxEntryBytes) {
      this.lru.set(key, entry, { ttl: opts.ttlMs });
      for (const tag of entry.tags) {
        const keys = this.byTag.get(tag) ?? new Set<string>();
        keys.add(key);
        this.byTag.set(tag, keys);
      }
    }
    return entry;
  }

  /** Calls in flight finish for their requests, but store nothing, and later requests start a new call. */
  private detachFlights(): void {
    for (const flight of this.flights.values()) flight.state.stale = true;
    this.flights.clear();
  }

  private unindex(entry: CacheEntry, key: string): void {
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) this.byTag.delete(tag);
    }
  }
}

/** Undefined for an action that answered nothing (a 204: not cached). */
function entryOf(key: string, output: unknown, tagsOf: (output: unknown) => readonly string[]): CacheEntry | undefined {
  if (output === undefined) return undefined;
  const body = JSON.stringify(output);
  // Parsed back rather than kept: the value a service handed over (by reference, in process) stays its own.
  const copy = deepFreeze(JSON.parse(body));
  const tags = [...new Set(tagsOf(copy))];
  // UTF-16 text, and a parsed copy that takes about as much again.
  const size = body.length * 4 + key.length * 2 + tags.reduce((n, t) => n + t.length * 2, 0) + OVERHEAD_BYTES;
  return Object.freeze({ body, etag: etagOf(body), output: copy, tags, storedAt: Date.now(), size });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
