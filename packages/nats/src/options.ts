/** @module Options of the NATS transport, from code or from a `nats://` URL, and consumer naming. */
import { FlotillaCodes, FlotillaError, type SubscribeOptions } from "@flotilla/core";
import { nanos, nuid } from "@nats-io/transport-node";
import type { Source } from "./event-consumer.js";
import type { ConsumerSettings, StreamSettings } from "./streams.js";
import { durableName, eventSubject, safeName, serviceOf } from "./subjects.js";

export interface NatsTransportOptions extends Partial<StreamSettings>, Partial<ConsumerSettings> {
  /** `host:port` or several, e.g. `["nats-1:4222", "nats-2:4222"]`. */
  servers: string | string[];
  /** Client name shown by the server's monitoring. */
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /**
   * Prefix of this connection's reply subjects (default `_INBOX`). Least-privilege credentials confine
   * each user to its own (`_INBOX_<user>`), so no one else can read its replies.
   */
  inboxPrefix?: string;
  /** Initial connection deadline (5 s); after that the client reconnects forever. */
  connectTimeoutMs?: number;
  /** Pause between reconnection attempts (500 ms, plus up to a quarter of it as jitter). */
  reconnectWaitMs?: number;
  /** Bound on a publish's PubAck and on JetStream API calls (5 s). */
  publishTimeoutMs?: number;
}

const NUMERIC = [
  "connectTimeoutMs",
  "reconnectWaitMs",
  "publishTimeoutMs",
  "eventMaxAgeMs",
  "duplicateWindowMs",
  "replicas",
  "ackWaitMs",
  "maxAckPending",
] as const;

export function resolveOptions(options: NatsTransportOptions) {
  return {
    name: "flotilla",
    connectTimeoutMs: 5_000,
    reconnectWaitMs: 500,
    publishTimeoutMs: 5_000,
    eventMaxAgeMs: 7 * 24 * 3_600_000,
    duplicateWindowMs: 2 * 60_000,
    replicas: 1,
    ackWaitMs: 30_000,
    maxAckPending: 1_000,
    ...options,
  };
}

/**
 * `nats://[user:pass@ | token@]host[:port][?servers=h2:p2,h3:p3&name=…&inboxPrefix=…&publishTimeoutMs=…]`; every
 * numeric option can be given as a query parameter of the same name.
 */
export function optionsFromUrl(url: URL): NatsTransportOptions {
  const servers = [`${url.hostname}:${url.port || "4222"}`];
  const options: NatsTransportOptions = { servers };
  if (url.username && url.password) {
    options.user = decodeURIComponent(url.username);
    options.pass = decodeURIComponent(url.password);
  } else if (url.username) {
    options.token = decodeURIComponent(url.username);
  }
  for (const [key, value] of url.searchParams) {
    if (key === "servers") servers.push(...value.split(",").filter(Boolean));
    else if (key === "name") options.name = value;
    else if (key === "inboxPrefix" && isSubjectToken(value)) options.inboxPrefix = value;
    else if ((NUMERIC as readonly string[]).includes(key) && Number.isFinite(Number(value)) && value !== "") {
      options[key as (typeof NUMERIC)[number]] = Number(value);
    } else {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `unknown or invalid NATS transport option ${key}=${value}`);
    }
  }
  return options;
}

/** A prefix nats.js accepts for inboxes: one or more tokens, no wildcards or whitespace. */
function isSubjectToken(value: string): boolean {
  return /^[^\s*>]+$/.test(value) && !value.split(".").includes("");
}

/** One pull consumer per event type: durable (named after the group) or ephemeral for broadcast. */
export function sourcesFor(opts: SubscribeOptions): { group: string; sources: Source[] } {
  const broadcast = opts.group === undefined;
  const group = opts.group ?? `bc_${safeName(opts.instance)}_${nuid.next().slice(-8)}`;
  const budget = Math.max(1, Math.floor(opts.maxInFlight / opts.types.length));
  const sources = opts.types.map((type): Source => {
    const base = broadcast ? group : durableName(group);
    const name = consumerName(base, type, opts.types.length > 1);
    const config = broadcast
      ? { name, filter_subject: eventSubject(type), inactive_threshold: nanos(5 * 60_000) }
      : { durable_name: name, filter_subject: eventSubject(type) };
    return { service: serviceOf(type), name, config, busy: 0, budget };
  });
  return { group, sources };
}

/** A subscription's consumer of one type: `<base>`, or `<base>__<EventName>` when it subscribes to several. */
export function consumerName(base: string, type: string, several: boolean): string {
  return several ? `${base}__${safeName(type.slice(type.indexOf(".") + 1))}` : base;
}
