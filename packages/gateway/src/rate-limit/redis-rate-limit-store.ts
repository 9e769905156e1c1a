/** @module Shared rate limit store on Redis: one EVALSHA per decision, failing open (or closed) when Redis is away. */
import { FlotillaError } from "@flotilla/core";
import { Redis } from "ioredis";
import { type Decision, decision, type GcraParams, gcraParams, type RateLimit } from "./gcra.js";
import { GCRA_LUA } from "./gcra-lua.js";
import { RateLimitCodes } from "./rate-limit-errors.js";
import type { RateLimitStore } from "./rate-limit-store.js";

export interface RedisRateLimitStoreOptions {
  /** redis://… URL of a client the store creates and owns; or pass `client`. */
  url?: string;
  /** A client you own (the store defines its script on it and never closes it); set its commandTimeout. */
  client?: Redis;
  /** Key prefix (default "flotilla:rl:"). */
  prefix?: string;
  /**
   * When Redis cannot answer in time. "open" (default) admits the request: a limiter outage must not
   * become a shop outage, and the limits are there to stop abuse, not to be the last line of defence.
   * "closed" refuses it with 503 FLOTILLA_RATE_LIMIT_UNAVAILABLE and Retry-After, for routes where an
   * unmetered request costs more than a refused one (paid third-party APIs, password guessing).
   */
  onError?: "open" | "closed";
  /** Longest wait for Redis per request (default 50 ms); a slow Redis then counts as an unavailable one. */
  timeoutMs?: number;
  /** Where outage warnings go; at most one per `warnIntervalMs` (default 10 000 ms). */
  log?: { warn(obj: object, msg: string): void };
  warnIntervalMs?: number;
}

export interface RedisRateLimitStore extends RateLimitStore {
  take(key: string, limit: RateLimit): Promise<Decision>;
  /** Decisions Redis could not make (timeouts, connection errors) since the store was created. */
  errors(): number;
}

const COMMAND = "flotillaGcra";
type GcraCommand = (key: string, intervalUs: number, toleranceUs: number) => Promise<[number, number, number, number]>;

const FAILED_OPEN: Decision = Object.freeze({
  allowed: true,
  remaining: 0,
  resetSec: 0,
  retryAfterSec: 0,
  degraded: true,
});

export function redisRateLimitStore(opts: RedisRateLimitStoreOptions): RedisRateLimitStore {
  const timeoutMs = opts.timeoutMs ?? 50;
  const prefix = opts.prefix ?? "flotilla:rl:";
  const failClosed = opts.onError === "closed";
  const owned = opts.client === undefined;
  const client =
    opts.client ??
    new Redis(opts.url ?? "redis://127.0.0.1:6379", {
      commandTimeout: timeoutMs,
      // Fail at once while disconnected instead of queueing: queued requests would pile up behind an outage.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // Reconnects forever, backing off to 2 s, so limiting resumes soon after Redis is back.
      retryStrategy: (times) => Math.min(times * 100, 2000),
    });
  // Without a listener ioredis reports every failed reconnect on stderr; take() reports outages instead.
  if (owned) client.on("error", () => {});
  // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (e.g. after Redis restarted empty).
  client.defineCommand(COMMAND, { lua: GCRA_LUA, numberOfKeys: 1 });
  const run = (client as unknown as Record<typeof COMMAND, GcraCommand>)[COMMAND].bind(client);

  const params = new WeakMap<RateLimit, GcraParams>();
  const warnEveryMs = opts.warnIntervalMs ?? 10_000;
  let errors = 0;
  let lastWarn = Number.NEGATIVE_INFINITY;

  const failed = (err: unknown): Decision => {
    errors++;
    const now = Date.now();
    if (now - lastWarn >= warnEveryMs) {
      lastWarn = now;
      const message = err instanceof Error ? err.message : String(err);
      opts.log?.warn(
        { err: message, failures: errors, onError: failClosed ? "closed" : "open" },
        failClosed
          ? "rate limit store unavailable: refusing requests"
          : "rate limit store unavailable: admitting requests unmetered",
      );
    }
    if (!failClosed) return FAILED_OPEN;
    throw FlotillaError.of(RateLimitCodes.RATE_LIMIT_UNAVAILABLE, "rate limiting is unavailable, try again shortly", {
      details: { retryAfterSec: 1 },
      cause: err,
    });
  };

  return {
    async take(key, limit) {
      let p = params.get(limit);
      if (p === undefined) {
        p = gcraParams(limit);
        params.set(limit, p);
      }
      try {
        const [allowed, remaining, resetUs, retryAfterUs] = await withTimeout(
          run(prefix + key, p.intervalUs, p.toleranceUs),
          timeoutMs,
        );
        return decision(allowed === 1, remaining, resetUs, retryAfterUs);
      } catch (err) {
        return failed(err);
      }
    },
    errors: () => errors,
    async close() {
      if (!owned) return;
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/** ioredis's commandTimeout covers clients we create; this also bounds clients passed in without one. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
