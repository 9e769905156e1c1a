/**
 * @module What the Topology view draws beyond the instances: the calls and events seen in recent spans, and
 * the pub/sub map they make, set against what the app declares. Computed where the spans are (the app's
 * dashboard context), drawn by public/topology-graph.js and topology-observed.js.
 */

/** Calls from one service (or the gateway) to another, seen as a CLIENT span and its SERVER child. */
export interface CallEdge {
  readonly from: string;
  readonly to: string;
  /** `call`: an action call; `saga`: a saga's step sent as a command (a PRODUCER span and its SERVER child). */
  readonly via: "call" | "saga";
  readonly calls: number;
  readonly perMinute: number;
  readonly errors: number;
  /** errors / calls, 0..1. */
  readonly errorRatio: number;
  /** Of the callee's SERVER spans, in milliseconds. */
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** The actions called (`catalog.getProducts`), sorted. */
  readonly actions: readonly string[];
}

/** Deliveries of one event type from a publisher to a consumer service: a PRODUCER span and its CONSUMER child. */
export interface EventEdge {
  readonly from: string;
  readonly to: string;
  readonly type: string;
  /** The consumer groups (`service.handler`) that handled them, sorted. */
  readonly groups: readonly string[];
  readonly deliveries: number;
  readonly perMinute: number;
  readonly errors: number;
  readonly errorRatio: number;
}

/** How observed traffic disagrees with the declarations. */
export type PubSubMismatchKind =
  | "published-never-consumed"
  | "consumed-never-published"
  | "publisher-differs"
  | "undeclared-consumer";

export interface PubSubMismatch {
  readonly kind: PubSubMismatchKind;
  /** The mismatch in words, e.g. "published by orders 3 times, consumed by no one". */
  readonly text: string;
}

export interface ObservedConsumer {
  readonly service: string;
  readonly group: string;
  readonly deliveries: number;
  /** Whether the service declares a subscription to the type. */
  readonly declared: boolean;
}

/** One event type of the pub/sub map: who declares it, who was seen publishing and consuming it. */
export interface PubSubEntry {
  readonly type: string;
  /** The service whose contract declares the event; null when no contract of the app does. */
  readonly declaredBy: string | null;
  /** Services that declare a subscription to it, with their consumer groups. */
  readonly subscribers: readonly { readonly service: string; readonly group: string }[];
  readonly publishers: readonly { readonly service: string; readonly published: number }[];
  readonly consumers: readonly ObservedConsumer[];
  readonly mismatches: readonly PubSubMismatch[];
}

export interface ObservedGraph {
  /** The window read, ending at `generatedAt`. */
  readonly windowMs: number;
  readonly generatedAt: string;
  /** The spans the window held (at most the read's limit). */
  readonly spans: number;
  readonly calls: readonly CallEdge[];
  readonly events: readonly EventEdge[];
  readonly pubsub: readonly PubSubEntry[];
}

/** Reads the observed graph now (the app's dashboard context gives one when it keeps spans). */
export type ObservedReader = () => Promise<ObservedGraph>;
