/** @module The gateway's resource limits: their defaults, and the checks that refuse nonsense values at start-up. */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";

/** Every limit the gateway enforces; each is an option of createGateway with the default below. */
export interface GatewayLimits {
  /** Largest request body, in bytes (1 MiB); larger ones get 413, by Content-Length before reading. */
  bodyLimitBytes: number;
  /** Deepest JSON nesting accepted in a body (64). */
  maxJsonDepth: number;
  /** Largest request head (request line and headers), in bytes (16 KiB); larger ones get 431. */
  maxHeaderBytes: number;
  /** Most header fields a request may carry (100); more get 431. */
  maxHeaders: number;
  /** Time to receive the request head, in ms (10 s); a slower client gets 408 and is disconnected. */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included, in ms (30 s); a slower client gets 408. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open, in ms (72 s: longer than load balancers' 60 s). */
  keepAliveTimeoutMs: number;
  /** Requests served at once (1024); beyond it new ones get 503 with Retry-After at once. Health routes are exempt. */
  maxConcurrentRequests: number;
  /**
   * After refusing a body it has not read (413), the gateway reads and discards at most this many more bytes
   * (16 MiB) for at most `lingerMs` (2 s) before closing, so the client, still uploading, can read the answer.
   * Bytes the client had already handed to its kernel arrive whether or not it has read the answer yet, and
   * Linux buffers up to ~10 MiB between the two ends of a loopback connection: 4 MiB lost answers in tests.
   */
  lingerBytes: number;
  lingerMs: number;
}

export const DEFAULT_LIMITS: Readonly<GatewayLimits> = Object.freeze({
  bodyLimitBytes: 1024 * 1024,
  maxJsonDepth: 64,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
  maxConcurrentRequests: 1024,
  lingerBytes: 16 * 1024 * 1024,
  lingerMs: 2_000,
});

/** The given limits over the defaults; throws FLOTILLA_CONFIG for a value that is not a positive integer. */
export function resolveLimits(given: Partial<GatewayLimits>): GatewayLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof GatewayLimits)[]) {
    const value = given[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `gateway option ${key} must be a positive integer, got ${value}`);
    }
    limits[key] = value;
  }
  // Node refuses a head timeout longer than the whole request's, and it would mean nothing anyway.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, "gateway option headersTimeoutMs must not exceed requestTimeoutMs");
  }
  return limits;
}

/**
 * How often Node looks for requests past their head or whole-request timeout. Node's default (30 s) would let
 * a slow client hold a socket up to 30 s past its timeout; a fraction of the shortest timeout keeps the cut-off
 * close to the configured value.
 */
export function timeoutCheckIntervalMs(limits: GatewayLimits): number {
  return Math.min(1_000, Math.max(25, Math.floor(limits.headersTimeoutMs / 4)));
}
