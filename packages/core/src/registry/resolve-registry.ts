/** @module Resolves a registry from a URL (`memory://`, `nats://…`) or passes an instance through. */
import { FlotillaCodes, FlotillaError } from "../errors.js";
import { MemoryRegistry } from "./memory-registry.js";
import type { Registry } from "./registry.js";

/** Builds a registry for one URL scheme; packages such as @flotilla/nats contribute one. */
export type RegistryFactory = (url: URL) => Registry;

export type RegistrySpec = string | Registry;

/**
 * `memory://?heartbeatMs=500&ttlMs=1500` gives a fresh in-process registry (share the object between
 * hosts of one process). Other schemes come from `factories`, keyed by scheme without the colon.
 */
export function resolveRegistry(spec: RegistrySpec, factories: Record<string, RegistryFactory> = {}): Registry {
  if (typeof spec !== "string") return spec;
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `registry "${spec}" is not a URL (try memory:// or nats://host:4222)`);
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (scheme === "memory") {
    const heartbeatMs = url.searchParams.get("heartbeatMs");
    const ttlMs = url.searchParams.get("ttlMs");
    return new MemoryRegistry({
      ...(heartbeatMs ? { heartbeatMs: Number(heartbeatMs) } : {}),
      ...(ttlMs ? { ttlMs: Number(ttlMs) } : {}),
    });
  }
  const factory = factories[scheme];
  if (factory === undefined) {
    const known = ["memory", ...Object.keys(factories)].join(", ");
    throw FlotillaError.of(FlotillaCodes.CONFIG, `no registry for scheme "${scheme}" (known: ${known})`);
  }
  return factory(url);
}
