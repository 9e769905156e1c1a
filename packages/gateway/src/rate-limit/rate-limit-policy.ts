/** @module The rate limit policy: picks the caller's bucket and tier, asks the store, answers 429 or passes. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { documentPolicy } from "../openapi/policy-docs.js";
import type { Exchange, Policy } from "../policy.js";
import { addressBucket, clientAddress, trustedProxyList } from "./client-address.js";
import { type Decision, gcraParams, type RateLimit } from "./gcra.js";
import { RateLimitCodes } from "./rate-limit-errors.js";
import type { RateLimitStore } from "./rate-limit-store.js";
import { rateLimitFieldQuoted, rateLimitPolicyField, sfString } from "./ratelimit-headers.js";
import { DEFAULT_TIERS, type TierTable, tierOf } from "./tiers.js";

export interface RateLimitOptions {
  store: RateLimitStore;
  /** Limits by tier, merged over DEFAULT_TIERS. */
  tiers?: Partial<TierTable>;
  /**
   * Who a request counts against. Default: a signed-in caller (or API key) by `caller.subject`, anyone
   * else by client address (an IPv6 client by its /64).
   */
  key?: (exchange: Exchange, clientAddress: string | undefined) => string;
  /** Proxies (IPs or CIDRs) whose X-Forwarded-For is believed; without them the header is ignored. */
  trustedProxies?: readonly string[];
  /** Policy name, also the store key prefix, so two limiters can share one store (default "rate-limit"). */
  name?: string;
}

export interface RateLimitStats {
  allowed: number;
  limited: number;
  /** Requests decided without the store (admitted when failing open, refused when failing closed). */
  storeErrors: number;
}

export interface RateLimitPolicy extends Policy {
  stats(): RateLimitStats;
}

export function rateLimit(opts: RateLimitOptions): RateLimitPolicy {
  const name = opts.name ?? "rate-limit";
  const tiers: TierTable = { ...DEFAULT_TIERS };
  for (const [tier, limit] of Object.entries(opts.tiers ?? {})) if (limit !== undefined) tiers[tier] = limit;
  // Each tier's header parts, built once: the RateLimit-Policy field and the quoted name RateLimit starts with.
  const fields = new Map<string, { policy: string; name: string }>();
  for (const [tier, limit] of Object.entries(tiers)) {
    gcraParams(limit); // a bad limit is a startup error, not a failure on the first request
    fields.set(tier, { policy: rateLimitPolicyField(tier, limit), name: sfString(tier) });
  }
  const isTrusted = trustedProxyList(opts.trustedProxies ?? []);
  const custom = opts.key;
  const keyOf =
    custom === undefined
      ? (exchange: Exchange) => defaultKey(exchange, isTrusted)
      : (exchange: Exchange) => custom(exchange, clientAddress(exchange.request, isTrusted));
  const stats: RateLimitStats = { allowed: 0, limited: 0, storeErrors: 0 };

  const apply = (exchange: Exchange, tier: string, limit: RateLimit, d: Decision): void => {
    if (d.degraded) {
      stats.storeErrors++;
      stats.allowed++;
      return;
    }
    exchange.setHeader("RateLimit", rateLimitFieldQuoted(fields.get(tier)!.name, d));
    if (d.allowed) {
      stats.allowed++;
      return;
    }
    stats.limited++;
    exchange.setHeader("Retry-After", String(d.retryAfterSec));
    throw FlotillaError.of(RateLimitCodes.RATE_LIMITED, `rate limit exceeded, retry in ${d.retryAfterSec} s`, {
      details: { policy: tier, limit: limit.limit, windowSec: limit.windowSec, retryAfterSec: d.retryAfterSec },
    });
  };

  const unavailable = (exchange: Exchange, err: unknown): never => {
    stats.storeErrors++;
    // A store that fails without saying how (a custom one) is treated as an unavailable one, not a bug.
    const fe =
      err instanceof FlotillaError
        ? err
        : FlotillaError.of(RateLimitCodes.RATE_LIMIT_UNAVAILABLE, "rate limiting is unavailable, try again shortly", {
            details: { retryAfterSec: 1 },
            cause: err,
          });
    const retryAfter = (fe.details as { retryAfterSec?: unknown } | undefined)?.retryAfterSec;
    exchange.setHeader("Retry-After", String(typeof retryAfter === "number" ? retryAfter : 1));
    throw fe;
  };

  const policy: RateLimitPolicy = {
    name,
    stats: () => ({ ...stats }),
    // The policy owns its store: a Redis store's connection closes with the gateway.
    close: () => opts.store.close(),
    onRequest(exchange) {
      const tier = tierOf(exchange.caller, tiers);
      const limit = tiers[tier];
      if (limit === undefined) throw FlotillaError.of(FlotillaCodes.CONFIG, `rate limit tier "${tier}" is undefined`);
      exchange.setHeader("RateLimit-Policy", fields.get(tier)!.policy);
      const key = `${name}:${tier}:${keyOf(exchange)}`;
      let result: Promise<Decision> | Decision;
      try {
        result = opts.store.take(key, limit);
      } catch (err) {
        return unavailable(exchange, err);
      }
      // The memory store answers synchronously: no promise on the hot path.
      if (!(result instanceof Promise)) return apply(exchange, tier, limit, result);
      return result.then(
        (d) => apply(exchange, tier, limit, d),
        (err: unknown) => unavailable(exchange, err),
      );
    },
  };
  return documentPolicy(policy, {
    errors: [
      { ...RateLimitCodes.RATE_LIMITED, headers: ["retry-after"] },
      { ...RateLimitCodes.RATE_LIMIT_UNAVAILABLE, headers: ["retry-after"] },
    ],
  });
}

/** A signed-in caller's bucket needs no client address, so it is only worked out for anonymous requests. */
function defaultKey(exchange: Exchange, isTrusted: (address: string) => boolean): string {
  if (exchange.caller !== undefined) return `sub:${exchange.caller.subject}`;
  const address = clientAddress(exchange.request, isTrusted);
  // No address means the socket is already gone; such requests share one bucket rather than escape.
  return `ip:${address === undefined ? "unknown" : addressBucket(address)}`;
}
