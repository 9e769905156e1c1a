/** @module NATS message headers: envelope headers in, error and CloudEvents headers, and back out. */
import { FlotillaError, type HeaderMap, Headers, type Status, type WireError } from "@flotilla/core";
import { type MsgHdrs, MsgHdrsImpl } from "@nats-io/transport-node";

export const NatsHeaders = {
  /** The request id of the attempt (correlation with the caller's logs; the reply subject routes the reply). */
  requestId: "flotilla-request-id",
  /** Set on error replies and dead letters: the error code; the body is the wire error. */
  error: "flotilla-error",
  /** ADR-32 (NATS micro services) error headers, for `nats` CLI and other tooling. */
  serviceError: "Nats-Service-Error",
  serviceErrorCode: "Nats-Service-Error-Code",
  /** CloudEvents 1.0 NATS binding, binary mode: attributes as `ce-` headers, data as the body. */
  ceSpecVersion: "ce-specversion",
  ceId: "ce-id",
  ceType: "ce-type",
  ceSource: "ce-source",
  ceTime: "ce-time",
  /** Extension attribute: the schema version of `data`. */
  ceDataVersion: "ce-dataversion",
  contentType: "content-type",
  dlqGroup: "flotilla-dlq-group",
  dlqAttempts: "flotilla-dlq-attempts",
} as const;

/** Headers that carry the envelope's own fields, so they are not handed back as envelope headers. */
const TRANSPORT_HEADERS: ReadonlySet<string> = new Set([
  NatsHeaders.ceSpecVersion,
  NatsHeaders.ceId,
  NatsHeaders.ceType,
  NatsHeaders.ceSource,
  NatsHeaders.ceTime,
  NatsHeaders.ceDataVersion,
  NatsHeaders.contentType,
]);

const VALID_KEY = /^[!-9;-~]+$/;
const INVALID_VALUE = /[\r\n]/;

/** A request's metadata headers (read one by one) and the transport's own: the rest are extras. */
const REQUEST_HEADERS: ReadonlySet<string> = new Set([
  NatsHeaders.requestId,
  Headers.traceparent,
  Headers.tracestate,
  Headers.correlationId,
  Headers.timeout,
  Headers.caller,
]);

/** Envelope headers plus `extra` as NATS headers; a name or value the protocol cannot carry is refused. */
export function toNatsHeaders(headers: HeaderMap, extra?: HeaderMap): MsgHdrs {
  const record: Record<string, string[]> = {};
  for (const map of extra === undefined ? [headers] : [headers, extra]) {
    for (const key in map) {
      const value = map[key] as string;
      if (!VALID_KEY.test(key) || INVALID_VALUE.test(value)) {
        throw new FlotillaError("INVALID_ARGUMENT", `header ${JSON.stringify(key)} cannot be sent over NATS`);
      }
      record[key] = [value];
    }
  }
  return MsgHdrsImpl.fromRecord(record);
}

/**
 * The envelope headers of a received message: everything but the transport's own and NATS's `Nats-*`
 * ones. Flotilla's envelope headers (`flotilla-retry-group` included) pass both ways unchanged.
 */
export function fromNatsHeaders(headers: MsgHdrs | undefined): HeaderMap {
  const out: HeaderMap = {};
  if (headers === undefined) return out;
  for (const [key, values] of headers) {
    if (TRANSPORT_HEADERS.has(key) || key.startsWith("Nats-")) continue;
    const value = values[0];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** The headers of a request other than its metadata (those set by a caller's middleware), or undefined. */
export function extraHeaders(headers: MsgHdrs | undefined): HeaderMap | undefined {
  if (headers === undefined) return undefined;
  let out: HeaderMap | undefined;
  for (const [key, values] of headers) {
    if (REQUEST_HEADERS.has(key) || key.startsWith("Nats-")) continue;
    const value = values[0];
    if (value === undefined) continue;
    out ??= {};
    out[key] = value;
  }
  return out;
}

/** Headers of an error reply: our marker plus the ADR-32 pair. */
export function errorHeaders(wire: WireError): MsgHdrs {
  return MsgHdrsImpl.fromRecord({
    [NatsHeaders.error]: [oneLine(wire.code)],
    [NatsHeaders.serviceError]: [oneLine(wire.message).slice(0, 512)],
    [NatsHeaders.serviceErrorCode]: [String(httpCode(wire.status))],
  });
}

const HTTP_CODES: Record<Status, number> = {
  CANCELLED: 499,
  UNKNOWN: 500,
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 429,
  FAILED_PRECONDITION: 400,
  ABORTED: 409,
  OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DATA_LOSS: 500,
  UNAUTHENTICATED: 401,
};

/** The usual gRPC → HTTP mapping, which ADR-32's numeric error code expects. */
export function httpCode(status: Status): number {
  return HTTP_CODES[status] ?? 500;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}
