/** @module Live push's options, their defaults, its error codes and what it reports to metrics. */
import { type EventRef, FlotillaCodes, FlotillaError, type Status } from "@flotilla/core";
import type { Policy } from "../policy.js";

/** How a live connection speaks: Server-Sent Events, a WebSocket or a gRPC server stream. */
export type LiveProtocol = "sse" | "websocket" | "grpc";

/** What live push reports; `liveMetrics()` of @flotilla/telemetry makes one backed by prom-client. */
export interface LiveMetrics {
  opened(protocol: LiveProtocol): void;
  closed(protocol: LiveProtocol): void;
  /** Messages written to connections (replayed ones included). */
  pushed(protocol: LiveProtocol, count: number): void;
  /** Messages sent on a resume (`Last-Event-ID`). */
  replayed(count: number): void;
  /** A connection ended by the gateway because its client did not keep up. */
  droppedSlow(protocol: LiveProtocol): void;
  /** A connection refused by a limit: per user (429) or in total (503). */
  refused(reason: "user" | "total"): void;
  /** Events read from the transport's history into the replay buffer as the gateway started. */
  primed?(count: number): void;
}

export interface LiveOptions {
  /** The events pushed: each to the user its emitter marked (the event's contract `audience`). */
  events: readonly EventRef[];
  /** Path of the SSE endpoint and of the WebSocket upgrade (`/api/v1/live`). */
  path?: string;
  /** Policies after the gateway's global ones; `[authenticated()]` by default. `?access_token=` is always accepted here. */
  policies?: readonly Policy[];
  /** Interval of heartbeats: an SSE comment, a WebSocket ping (15 s). */
  heartbeatMs?: number;
  /** The `retry:` hint sent to EventSource clients, in ms (3 s). */
  retryMs?: number;
  /** Bytes a connection may have written but not yet taken by its client before it is dropped (256 KiB). */
  maxBufferedBytes?: number;
  /** Open live connections per user (5); one more is a 429. */
  maxConnectionsPerUser?: number;
  /** Open live connections of this gateway (10,000); one more is a 503. */
  maxConnections?: number;
  /** A resume replays at most this many of the caller's latest events (1,000)… */
  replayMaxEvents?: number;
  /** …and none older than this (10 minutes). */
  replayMaxAgeMs?: number;
  /** Events the gateway keeps for resumes, all users together (100,000). */
  replayMaxTotalEvents?: number;
  /**
   * Time the gateway spends at start reading the last `replayMaxAgeMs` of retained events into its
   * replay buffer, where the transport keeps history (5 s); what was read by then is kept.
   */
  primeTimeoutMs?: number;
  metrics?: LiveMetrics;
}

export type ResolvedLiveOptions = Required<Omit<LiveOptions, "metrics" | "policies">> &
  Pick<LiveOptions, "metrics"> & { policies: readonly Policy[] | undefined };

export const LIVE_DEFAULTS = {
  path: "/api/v1/live",
  heartbeatMs: 15_000,
  retryMs: 3_000,
  maxBufferedBytes: 256 * 1024,
  maxConnectionsPerUser: 5,
  maxConnections: 10_000,
  replayMaxEvents: 1_000,
  replayMaxAgeMs: 10 * 60_000,
  replayMaxTotalEvents: 100_000,
  primeTimeoutMs: 5_000,
} as const;

/** Codes live push raises. */
export const LiveCodes = {
  /** The caller has as many live connections open as allowed. */
  TOO_MANY_LIVE_CONNECTIONS: { code: "FLOTILLA_TOO_MANY_LIVE_CONNECTIONS", status: "RESOURCE_EXHAUSTED" },
  /** The gateway has as many live connections open as allowed (or is shutting down). */
  LIVE_FULL: { code: "FLOTILLA_LIVE_FULL", status: "UNAVAILABLE" },
  /** `Last-Event-ID` (or `lastEventId`) is not an id this endpoint sent. */
  BAD_LAST_EVENT_ID: { code: "FLOTILLA_BAD_LAST_EVENT_ID", status: "INVALID_ARGUMENT" },
} as const satisfies Record<string, { code: string; status: Status }>;

export function resolveLiveOptions(options: LiveOptions): ResolvedLiveOptions {
  const resolved = { ...LIVE_DEFAULTS, ...definedOnly(options), events: options.events, policies: options.policies };
  if (resolved.events.length === 0) throw config("live push needs at least one event");
  for (const key of Object.keys(LIVE_DEFAULTS) as (keyof typeof LIVE_DEFAULTS)[]) {
    if (key === "path") continue;
    const value = resolved[key];
    if (!(Number.isInteger(value) && value > 0)) throw config(`live ${key} must be a positive integer, got ${value}`);
  }
  if (!resolved.path.startsWith("/")) throw config(`live path "${resolved.path}" must start with /`);
  return resolved;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function config(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}
