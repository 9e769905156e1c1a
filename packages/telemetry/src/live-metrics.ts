/** @module Metrics of live push (SSE, WebSocket and gRPC stream connections at the gateway), in prom-client. */
import { Counter, Gauge, type Registry } from "prom-client";

type Protocol = "sse" | "websocket" | "grpc";

/** What the gateway's live push reports; its `live.metrics` option takes one. */
export interface LiveMetrics {
  opened(protocol: Protocol): void;
  closed(protocol: Protocol): void;
  pushed(protocol: Protocol, count: number): void;
  replayed(count: number): void;
  droppedSlow(protocol: Protocol): void;
  refused(reason: "user" | "total"): void;
  primed(count: number): void;
}

/**
 * Registers `flotilla_live_connections` (open now, by protocol), `flotilla_live_messages_pushed_total`
 * (by protocol), `flotilla_live_messages_replayed_total`, `flotilla_live_slow_clients_dropped_total`
 * (by protocol), `flotilla_live_connections_refused_total` (by limit: `user` or `total`) and
 * `flotilla_live_replay_primed_events_total` (read from the transport's history as the gateway started).
 */
export function liveMetrics(registry: Registry): LiveMetrics {
  const registers = [registry];
  const open = { sse: 0, websocket: 0, grpc: 0 };
  new Gauge({
    name: "flotilla_live_connections",
    help: "Live push connections open at this gateway, by protocol.",
    labelNames: ["protocol"] as const,
    registers,
    collect() {
      this.set({ protocol: "sse" }, open.sse);
      this.set({ protocol: "websocket" }, open.websocket);
      this.set({ protocol: "grpc" }, open.grpc);
    },
  });
  const pushed = new Counter({
    name: "flotilla_live_messages_pushed_total",
    help: "Messages written to live connections (replayed ones included), by protocol.",
    labelNames: ["protocol"] as const,
    registers,
  });
  const replayed = new Counter({
    name: "flotilla_live_messages_replayed_total",
    help: "Messages sent again to callers resuming with Last-Event-ID.",
    registers,
  });
  const dropped = new Counter({
    name: "flotilla_live_slow_clients_dropped_total",
    help: "Live connections the gateway ended because the client did not take its messages in time.",
    labelNames: ["protocol"] as const,
    registers,
  });
  const refused = new Counter({
    name: "flotilla_live_connections_refused_total",
    help: "Live connections refused by a limit: per user (429) or of the gateway in total (503).",
    labelNames: ["limit"] as const,
    registers,
  });
  const primed = new Counter({
    name: "flotilla_live_replay_primed_events_total",
    help: "Events read from the transport's history into the replay buffer as the gateway started.",
    registers,
  });
  const pushedBy = { sse: pushed.labels("sse"), websocket: pushed.labels("websocket"), grpc: pushed.labels("grpc") };
  return {
    opened: (protocol) => void open[protocol]++,
    closed: (protocol) => void open[protocol]--,
    pushed: (protocol, count) => {
      if (count > 0) pushedBy[protocol].inc(count);
    },
    replayed: (count) => {
      if (count > 0) replayed.inc(count);
    },
    droppedSlow: (protocol) => dropped.labels(protocol).inc(),
    refused: (reason) => refused.labels(reason).inc(),
    primed: (count) => primed.inc(count),
  };
}
