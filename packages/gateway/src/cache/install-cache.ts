/** @module Wires the response cache into a gateway: made only when a route caches or invalidates, subscribed while it runs. */
import type { Host } from "@flotilla/core";
import type { FastifyInstance } from "fastify";
import type { Route } from "../route.js";
import { CacheInvalidator } from "./cache-invalidation.js";
import { type GatewayCacheOptions, resolveCacheOptions } from "./cache-options.js";
import { ResponseCache } from "./response-cache.js";

/** The gateway's cache; undefined when turned off, or when no route declares `cache` or `invalidates`. */
export function installCache(
  app: FastifyInstance,
  host: Host,
  routes: readonly Route[],
  log: Host["log"],
  options: GatewayCacheOptions | false | undefined,
): ResponseCache | undefined {
  if (options === false) return undefined;
  const settings = resolveCacheOptions(options);
  if (!routes.some((r) => r.cache !== undefined || r.invalidates !== undefined)) return undefined;
  const cache = new ResponseCache(settings);
  const invalidator = new CacheInvalidator(host, cache, routes, log);
  app.addHook("onReady", async () => invalidator.start());
  app.addHook("preClose", async () => {
    await invalidator.close();
    cache.clear();
  });
  return cache;
}
