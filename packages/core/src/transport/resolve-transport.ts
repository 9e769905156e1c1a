/** @module Resolves a transport from a URL (`memory://`, `nats://…`) or passes an instance through. */
import { FlotillaCodes, FlotillaError } from "../errors.js";
import { MemoryTransport, type MemoryTransportOptions } from "./memory-transport.js";
import type { Transport } from "./transport.js";

/** Builds a transport for one URL scheme; packages such as @flotilla/nats contribute one. */
export type TransportFactory = (url: URL) => Transport;

export type TransportSpec = string | Transport;

/**
 * `memory://` gives a fresh in-process transport; `memory://?faithful=true` serializes every message
 * as the network would. Other schemes come from `factories`, keyed by scheme without the colon; a
 * `memory` factory replaces the default (an app keeps its in-process events in a journal that way).
 */
export function resolveTransport(spec: TransportSpec, factories: Record<string, TransportFactory> = {}): Transport {
  if (typeof spec !== "string") return spec;
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      `transport "${spec}" is not a URL (try memory:// or nats://host:4222)`,
    );
  }
  const scheme = url.protocol.replace(/:$/, "");
  const factory = factories[scheme];
  if (factory === undefined && scheme === "memory") return new MemoryTransport(memoryTransportOptions(url));
  if (factory === undefined) {
    const known = [...new Set(["memory", ...Object.keys(factories)])].join(", ");
    throw FlotillaError.of(FlotillaCodes.CONFIG, `no transport for scheme "${scheme}" (known: ${known})`);
  }
  return factory(url);
}

/** What a `memory://` URL says: `faithful` (`1`/`true`) and `maxPayloadBytes`. */
export function memoryTransportOptions(url: URL): MemoryTransportOptions {
  const faithful = url.searchParams.get("faithful");
  const maxPayload = url.searchParams.get("maxPayloadBytes");
  return {
    faithful: faithful === "true" || faithful === "1",
    ...(maxPayload ? { maxPayloadBytes: Number(maxPayload) } : {}),
  };
}
