/**
 * @module One cached route: stands in for the action call (every policy still runs on every request,
 * hit or miss), then writes the answer's caching headers, or a 304 when the client has it already.
 */
import type { Span } from "@opentelemetry/api";
import type { FastifyReply } from "fastify";
import type { Exchange } from "../policy.js";
import type { Route } from "../route.js";
import { cacheControlOf, etagOf, forbidsStore, matchesIfNoneMatch } from "./cache-http.js";
import { cacheKeyOf } from "./cache-key.js";
import type { CacheRule } from "./cache-options.js";
import type { CacheEntry, ResponseCache } from "./response-cache.js";

/**
 * How a request was served: from the cache (`hit`), by the action (`miss`; `bypass` when the request
 * said `no-store`, so the answer was not stored), or with a 304 (`revalidated`, on the span only).
 */
export type CacheStatus = "hit" | "miss" | "revalidated" | "bypass";

interface Outcome {
  status: Exclude<CacheStatus, "revalidated">;
  /** Another request's call answered this one too. */
  joined: boolean;
  isPublic: boolean;
  entry: CacheEntry | undefined;
}

const JSON_TYPE = "application/json; charset=utf-8";

export class RouteCache {
  private readonly outcomes = new WeakMap<Exchange, Outcome>();
  private readonly tagsOf: (output: unknown) => readonly string[];

  constructor(
    private readonly route: Route,
    private readonly rule: CacheRule,
    private readonly cache: ResponseCache,
    private readonly load: (exchange: Exchange) => Promise<unknown>,
  ) {
    const own = rule.tags;
    this.tagsOf = own === undefined ? () => [rule.routeTag] : (output) => [rule.routeTag, ...own(output)];
  }

  /** The innermost step of the route's policies: the cached output, or the action's, fetched once per key. */
  readonly call = async (exchange: Exchange): Promise<unknown> => {
    const store = !forbidsStore(exchange.request.headers);
    const { route, rule } = this;
    const { key, isPublic } = cacheKeyOf(route.method, route.path, exchange.input, exchange.caller, rule);
    const outcome: Outcome = { status: store ? "miss" : "bypass", joined: false, isPublic, entry: undefined };
    this.outcomes.set(exchange, outcome);
    const fetched = await this.cache.fetch(key, () => this.load(exchange), {
      ttlMs: rule.ttlMs,
      store,
      tags: this.tagsOf,
    });
    if (fetched.source === "cache") outcome.status = "hit";
    outcome.joined = fetched.source === "joined";
    outcome.entry = fetched.entry;
    return fetched.entry?.output;
  };

  /** Tells the request's span and the metrics how it was served; runs whether it succeeded or not. */
  record(exchange: Exchange, span: Span | undefined): void {
    const outcome = this.outcomes.get(exchange);
    if (outcome === undefined) return; // refused before the call (a policy, invalid input)
    span?.setAttribute("flotilla.cache", outcome.status);
    if (outcome.joined) span?.setAttribute("flotilla.cache.joined", true);
    if (outcome.status === "hit") this.cache.metrics?.hit(this.route.path);
    else this.cache.metrics?.miss(this.route.path);
  }

  /** Sends a 200 answer with its validator and freshness, or 304 without a body when `If-None-Match` names it. */
  answer(exchange: Exchange, output: unknown, reply: FastifyReply, span: Span | undefined): FastifyReply {
    const outcome = this.outcomes.get(exchange)!;
    const entry = outcome.entry;
    // A policy that returned another output than the cached one has its own answer serialized.
    const body = entry !== undefined && entry.output === output ? entry.body : JSON.stringify(output);
    const etag = entry !== undefined && entry.output === output ? entry.etag : etagOf(body);
    exchange.setHeader("etag", etag);
    exchange.setHeader("cache-control", cacheControlOf(outcome.isPublic, this.rule.clientMaxAgeSec));
    exchange.setHeader("x-cache", outcome.status.toUpperCase());
    if (outcome.status === "hit" && entry !== undefined) {
      exchange.setHeader("age", String(Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000))));
    }
    if (matchesIfNoneMatch(exchange.request.headers["if-none-match"], etag)) {
      span?.setAttribute("flotilla.cache", "revalidated");
      return reply.code(304).send();
    }
    return reply.code(200).header("content-type", JSON_TYPE).send(body);
  }
}
