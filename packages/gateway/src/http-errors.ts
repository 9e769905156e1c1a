/** @module The HTTP face of Flotilla errors: the gateway's own codes, the status mapping and the error body. */
import { FlotillaCodes, FlotillaError, type Status, toWire } from "@flotilla/core";

/** Codes the gateway raises itself. Never reuse a code; add new ones here and to the README table. */
export const GatewayCodes = {
  MALFORMED_JSON: { code: "FLOTILLA_MALFORMED_JSON", status: "INVALID_ARGUMENT" },
  JSON_TOO_DEEP: { code: "FLOTILLA_JSON_TOO_DEEP", status: "INVALID_ARGUMENT" },
  UNSUPPORTED_MEDIA_TYPE: { code: "FLOTILLA_UNSUPPORTED_MEDIA_TYPE", status: "INVALID_ARGUMENT" },
  BAD_REQUEST: { code: "FLOTILLA_BAD_REQUEST", status: "INVALID_ARGUMENT" },
  HEADERS_TOO_LARGE: { code: "FLOTILLA_HEADERS_TOO_LARGE", status: "RESOURCE_EXHAUSTED" },
  REQUEST_TIMEOUT: { code: "FLOTILLA_REQUEST_TIMEOUT", status: "DEADLINE_EXCEEDED" },
  /** Dot segments, encoded slashes or empty segments: a path that could mean another route to someone. */
  BAD_PATH: { code: "FLOTILLA_BAD_PATH", status: "INVALID_ARGUMENT" },
  /** The gateway's own ceiling on concurrent requests: shed at once rather than queued. */
  GATEWAY_OVERLOADED: { code: "FLOTILLA_GATEWAY_OVERLOADED", status: "UNAVAILABLE" },
  /** A proxied request got no usable answer from its upstream (refused, reset, malformed): 502. */
  UPSTREAM_UNAVAILABLE: { code: "FLOTILLA_UPSTREAM_UNAVAILABLE", status: "UNAVAILABLE" },
  /** A proxied request's upstream did not connect or answer in time: 504. */
  UPSTREAM_TIMEOUT: { code: "FLOTILLA_UPSTREAM_TIMEOUT", status: "DEADLINE_EXCEEDED" },
  /** No target of the upstream may be tried now: each has an open circuit or fails its health checks. */
  UPSTREAM_CIRCUIT_OPEN: { code: "FLOTILLA_UPSTREAM_CIRCUIT_OPEN", status: "UNAVAILABLE" },
} as const satisfies Record<string, { code: string; status: Status }>;

/**
 * FAILED_PRECONDITION is 400, as in google.rpc and grpc-gateway: 412 belongs to HTTP conditional
 * requests (If-Match, If-Unmodified-Since), which the gateway will answer itself once it caches.
 */
export const HTTP_STATUS: Readonly<Record<Status, number>> = {
  INVALID_ARGUMENT: 400,
  OUT_OF_RANGE: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  UNKNOWN: 500,
  DATA_LOSS: 500,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** Codes whose HTTP status is more precise than their category's (or whose category blames the wrong side). */
export const HTTP_STATUS_BY_CODE: Readonly<Record<string, number>> = {
  [FlotillaCodes.PAYLOAD_TOO_LARGE.code]: 413,
  [GatewayCodes.UNSUPPORTED_MEDIA_TYPE.code]: 415,
  [GatewayCodes.HEADERS_TOO_LARGE.code]: 431,
  [GatewayCodes.REQUEST_TIMEOUT.code]: 408,
  // The key was used with another request: 422, as the IETF Idempotency-Key draft answers it.
  [FlotillaCodes.IDEMPOTENCY_KEY_REUSED.code]: 422,
  // Another server failed to answer, not this one: 502 Bad Gateway, as proxies say it.
  [GatewayCodes.UPSTREAM_UNAVAILABLE.code]: 502,
};

export function httpStatusOf(err: FlotillaError): number {
  return HTTP_STATUS_BY_CODE[err.code] ?? HTTP_STATUS[err.status] ?? 500;
}

export interface ErrorBody {
  error: { code: string; message: string; traceId: string; details?: unknown };
}

/** The JSON body of an error answer. A 500 says nothing beyond its category: the log has the rest. */
export function errorBody(err: FlotillaError, httpStatus: number, traceId: string): ErrorBody {
  if (httpStatus === 500) {
    const code = err.status === "UNKNOWN" || err.status === "DATA_LOSS" ? err.status : "INTERNAL";
    return { error: { code, message: "internal error", traceId } };
  }
  const body: ErrorBody = { error: { code: err.code, message: err.message, traceId } };
  // toWire makes details JSON-safe, whatever a policy or service put there.
  const details = err.details === undefined ? undefined : toWire(err).details;
  if (details !== undefined) body.error.details = details;
  return body;
}

/** Turns anything thrown while serving a request (fastify's own errors included) into a FlotillaError. */
export function toFlotillaError(err: unknown, bodyLimitBytes: number): FlotillaError {
  if (err instanceof FlotillaError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return FlotillaError.of(FlotillaCodes.PAYLOAD_TOO_LARGE, `request body exceeds ${bodyLimitBytes} bytes`, {
        details: { limit: bodyLimitBytes },
      });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return FlotillaError.of(GatewayCodes.UNSUPPORTED_MEDIA_TYPE, "request body must be application/json");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return FlotillaError.of(GatewayCodes.MALFORMED_JSON, "request body is empty but declared as JSON");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return FlotillaError.of(GatewayCodes.MALFORMED_JSON, "request body is not valid JSON");
  }
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
    // fastify's other client errors (bad URL encoding, content length mismatch, over-long parameter).
    return FlotillaError.of(GatewayCodes.BAD_REQUEST, "the request is malformed", {
      details: { reason: typeof code === "string" ? code : "unknown" },
    });
  }
  return FlotillaError.from(err);
}
