/** @module One gRPC call on its way to an action, as policies see it: headers from its metadata, the message as input. */
import { Metadata } from "@grpc/grpc-js";
import { EdgeExchange } from "../edge-exchange.js";
import type { Route } from "../route.js";

const METADATA_KEY = /^[0-9a-z_.-]+$/;
const METADATA_VALUE = /^[\x20-\x7e]*$/;

export class GrpcExchange extends EdgeExchange {
  /** What policies set (rate-limit headers, Retry-After): sent as trailing metadata, success or error. */
  readonly trailers = new Metadata();

  setHeader(name: string, value: string): void {
    const key = name.toLowerCase();
    // Metadata is ASCII: a value built from data cannot smuggle another entry in.
    if (!METADATA_KEY.test(key) || !METADATA_VALUE.test(value)) throw new TypeError(`invalid metadata ${name}`);
    this.trailers.set(key, value);
  }
}

/** The call's metadata as HTTP-like headers: lowercase names, text values (binary `-bin` entries left out). */
export function headersOf(metadata: Metadata): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (typeof value === "string") headers[key] = value;
  }
  return headers;
}

/** `ipv4:127.0.0.1:5000`, `[::1]:5000` or `127.0.0.1:5000` → the address alone. */
export function peerAddress(peer: string): string | undefined {
  const bare = peer.replace(/^ipv[46]:/, "");
  if (bare.startsWith("[")) return bare.slice(1, bare.indexOf("]"));
  const colon = bare.lastIndexOf(":");
  // One colon: address and port. More: an IPv6 address without a port.
  return colon !== -1 && bare.indexOf(":") === colon ? bare.slice(0, colon) : bare || undefined;
}

/** A route as gRPC runs it: the input is the request message, already decoded. */
export function grpcRoute(route: Route): Route {
  return { ...route, input: (req) => req.body };
}
