/** @module Header hygiene at the proxy: hop-by-hop headers stripped both ways, `Forwarded` and `X-Forwarded-*` set by the gateway. */
import type { IncomingHttpHeaders } from "node:http";
import { ResponseHeaders } from "../edge-ids.js";

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1, plus the pre-standard Keep-Alive and Proxy-Connection): they
 * describe one connection, not the message, so a proxy never forwards them. `Expect` is answered here
 * (Node sends the 100 Continue), and a client's `Host` is replaced by the target's.
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "host",
]);

/**
 * What the client said about earlier hops. The gateway is the edge: it states the hop itself rather than
 * extend a chain any client could have made up.
 */
const CLAIMED: ReadonlySet<string> = new Set([
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-real-ip",
  "traceparent",
]);

/** What the gateway knows of the hop it forwards. */
export interface Hop {
  /** The TCP peer's address. */
  readonly clientAddress: string | undefined;
  /** `http` or `https`, as the client reached the gateway. */
  readonly proto: string;
  /** The Host (or HTTP/2 :authority) the client asked for. */
  readonly host: string | undefined;
  /** `host:port` of the target, sent as `Host`. */
  readonly targetHost: string;
  /** The attempt's own trace context, as W3C `traceparent`. */
  readonly traceparent: string;
  /** A header naming the authenticated caller to the upstream, and its value (undefined: anonymous). */
  readonly caller?: { readonly header: string; readonly subject: string | undefined };
}

/** The headers sent to a target: the client's end-to-end ones, then the hop's. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, hop: Hop): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const named = connectionNamed(incoming.connection);
  const callerHeader = hop.caller?.header;
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || name.charCodeAt(0) === 58 /* ":" HTTP/2 pseudo-header */) continue;
    if (HOP_BY_HOP.has(name) || CLAIMED.has(name) || name.startsWith("proxy-") || named.has(name)) continue;
    if (name === callerHeader) continue;
    out[name] = value;
  }
  out.host = hop.targetHost;
  out.traceparent = hop.traceparent;
  const forwarded = [`proto=${hop.proto}`];
  if (hop.clientAddress !== undefined) {
    const client = unmapped(hop.clientAddress);
    forwarded.unshift(`for=${client.includes(":") ? `"[${client}]"` : client}`);
    out["x-forwarded-for"] = client;
  }
  if (hop.host !== undefined) {
    forwarded.push(`host=${quoted(hop.host)}`);
    out["x-forwarded-host"] = hop.host;
  }
  out.forwarded = forwarded.join(";");
  out["x-forwarded-proto"] = hop.proto;
  if (callerHeader !== undefined && hop.caller?.subject !== undefined) out[callerHeader] = hop.caller.subject;
  return out;
}

/** Headers the gateway sets on every answer itself; a target's would contradict them. */
const EDGE: ReadonlySet<string> = new Set<string>(Object.values(ResponseHeaders));

/** The answer's headers as the client gets them: without hop-by-hop headers or ones the gateway sets itself. */
export function clientResponseHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const named = connectionNamed(headers.connection);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith("proxy-") || named.has(name)) continue;
    if (EDGE.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The names a `Connection` header lists: hop-by-hop too, whatever they are. */
function connectionNamed(value: string | string[] | undefined): ReadonlySet<string> {
  if (value === undefined) return EMPTY;
  const text = Array.isArray(value) ? value.join(",") : value;
  return new Set(text.split(",").map((n) => n.trim().toLowerCase()));
}

const EMPTY: ReadonlySet<string> = new Set();

/** An IPv4 client on a dual-stack socket shows as `::ffff:a.b.c.d`; upstreams expect `a.b.c.d`. */
function unmapped(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A value as an RFC 7230 token if it is one, else as a quoted string (a host with a port has a colon). */
function quoted(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/["\\]/g, "\\$&")}"`;
}
