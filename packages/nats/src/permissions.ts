/**
 * @module The NATS subjects a set of services (and, optionally, a gateway) sharing one connection
 * needs, and nothing more: the permissions of its nats-server user (see docs/security.md).
 */
import { FlotillaCodes, FlotillaError, type ServiceDefinition } from "@flotilla/core";
import { DATABASE_PREFIX } from "./database-peers.js";
import {
  DLQ_PREFIX,
  DLQ_STREAM,
  dlqSubject,
  durableName,
  EVENT_PREFIX,
  eventStream,
  eventSubject,
  INSTANCE_PREFIX,
  PING_ACTION,
  RPC_PREFIX,
  serviceOf,
} from "./subjects.js";

/** A nats-server user's `permissions` block. */
export interface NatsPermissions {
  readonly publish: { readonly allow: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[] };
  /** Lets the user answer the requests it receives (its actions' replies, `$SRV` discovery answers). */
  readonly allow_responses: boolean;
}

/** What a gateway running on the connection reaches: the actions it calls and the events it follows. */
export interface GatewayNeeds {
  /** Fully qualified actions (`catalog.getProduct`): its routes' and its policies'. */
  readonly calls: readonly string[];
  /** Event types (`orders.OrderPlaced`) of its live push and cache invalidation (broadcast subscribers). */
  readonly events: readonly string[];
  /** Event types it publishes itself (`gateway.TrafficChanged`: a change of traffic rules for every gateway). */
  readonly emits?: readonly string[];
}

export interface PermissionOptions {
  /** The gateway also runs on this connection. */
  readonly gateway?: GatewayNeeds;
  /** The connection's inbox prefix (the transport's `inboxPrefix`); replies arrive only there. Default `_INBOX`. */
  readonly inboxPrefix?: string;
  /** The NATS KV registry's bucket, when the unit registers its instances and watches others there. */
  readonly registryBucket?: string;
}

const JS_API = "$JS.API";
const SRV = "$SRV";

/**
 * The permissions of one connection serving `services` (one service, or the group sharing a process).
 * Every service must declare its `calls` (an empty list is a declaration); one that does not is refused
 * with FLOTILLA_CONFIG, since nothing then says which actions it may reach.
 */
export function natsPermissions(
  services: readonly ServiceDefinition[],
  options: PermissionOptions = {},
): NatsPermissions {
  const publish = new Set<string>();
  const subscribe = new Set<string>();
  subscribe.add(`${options.inboxPrefix ?? "_INBOX"}.>`);
  for (const def of services) {
    if (def.calls === undefined) {
      throw FlotillaError.of(
        FlotillaCodes.CONFIG,
        `${def.name} does not declare the actions it calls (defineService(contract, { calls: [...] }))`,
      );
    }
    if (Object.keys(def.contract.events).length > 0) emits(def.name, publish);
    if (Object.keys(def.contract.actions).length > 0) serves(def.name, publish, subscribe);
    if (def.database !== undefined) answersDatabaseProbes(def.name, publish, subscribe);
    const targets = [...def.calls, ...def.orchestrators.flatMap((o) => (o.calls ?? []).map((ref) => ref.fqn))];
    for (const action of targets) calls(action, publish);
    for (const sub of def.subscriptions) {
      if (sub.broadcast) follows(sub.event.type, publish);
      else consumes(`${def.name}.${sub.name}`, sub.event.type, publish);
    }
  }
  if (options.registryBucket !== undefined) registry(options.registryBucket, services, publish);
  for (const action of options.gateway?.calls ?? []) calls(action, publish);
  for (const type of options.gateway?.events ?? []) follows(type, publish);
  for (const type of options.gateway?.emits ?? []) {
    publish.add(eventSubject(type));
    stream(eventStream(serviceOf(type)), publish);
  }
  return { publish: { allow: [...publish] }, subscribe: { allow: [...subscribe] }, allow_responses: true };
}

/** Publishes its events to its own stream, which it creates if missing. */
function emits(service: string, publish: Set<string>): void {
  publish.add(`${EVENT_PREFIX}${service}.>`);
  stream(eventStream(service), publish);
}

/** Serves its actions: the queue group named after it, its instances' own subjects, and discovery. */
function serves(service: string, publish: Set<string>, subscribe: Set<string>): void {
  subscribe.add(`${RPC_PREFIX}${service}.> ${service}`);
  subscribe.add(`${INSTANCE_PREFIX}*.${service}.>`);
  subscribe.add(`${SRV}.*`);
  subscribe.add(`${SRV}.*.${service}`);
  subscribe.add(`${SRV}.*.${service}.*`);
  // Its handlers may call its own actions.
  publish.add(`${RPC_PREFIX}${service}.*`);
  publish.add(`${INSTANCE_PREFIX}*.${service}.*`);
}

/** Requests to one action, through the queue group or to a chosen instance, and the service's probe. */
function calls(action: string, publish: Set<string>): void {
  publish.add(RPC_PREFIX + action);
  publish.add(`${INSTANCE_PREFIX}*.${action}`);
  publish.add(`${RPC_PREFIX}${serviceOf(action)}.${PING_ACTION}`);
}

/** A consumer group: its durable on the emitting service's stream, acks, and dead letters of the group. */
function consumes(group: string, type: string, publish: Set<string>): void {
  const source = eventStream(serviceOf(type));
  const durable = durableName(group);
  stream(source, publish);
  publish.add(`${JS_API}.CONSUMER.INFO.${source}.${durable}`);
  publish.add(`${JS_API}.CONSUMER.CREATE.${source}.${durable}.${eventSubject(type)}`);
  publish.add(`${JS_API}.CONSUMER.MSG.NEXT.${source}.${durable}`);
  publish.add(`$JS.ACK.${source}.${durable}.>`);
  publish.add(dlqSubject(group));
  stream(DLQ_STREAM, publish);
}

/**
 * A broadcast subscriber or a history reader of one type: its consumers are ephemeral with names made
 * at run time (`bc_<instance>_<random>`, `oc_<nuid>_<n>`), and a subject cannot match part of a token,
 * so any consumer name on the emitting service's stream is allowed; creation stays confined to the
 * type's subject (the filter is part of the create subject).
 */
function follows(type: string, publish: Set<string>): void {
  const source = eventStream(serviceOf(type));
  stream(source, publish);
  publish.add(`${JS_API}.CONSUMER.CREATE.${source}.*.${eventSubject(type)}`);
  publish.add(`${JS_API}.CONSUMER.INFO.${source}.*`);
  publish.add(`${JS_API}.CONSUMER.MSG.NEXT.${source}.*`);
  publish.add(`${JS_API}.CONSUMER.DELETE.${source}.*`);
  publish.add(`$JS.ACK.${source}.*.>`);
  // A broadcast group is one token (`bc_…`): its dead letters, never a durable group's (those have dots).
  publish.add(`${DLQ_PREFIX}*`);
  stream(DLQ_STREAM, publish);
}

/**
 * Puts and deletes its own instances' keys (`<service>.<instance>`), and watches every key: the watcher is
 * an ordered consumer of the bucket's stream, named at run time like a broadcast subscriber's.
 */
function registry(bucket: string, services: readonly ServiceDefinition[], publish: Set<string>): void {
  const source = `KV_${bucket}`;
  // The KV client reads the account's JetStream limits (read-only) before it opens a bucket.
  publish.add(`${JS_API}.INFO`);
  stream(source, publish);
  for (const def of services) publish.add(`$KV.${bucket}.${def.name}.*`);
  publish.add(`${JS_API}.CONSUMER.CREATE.${source}.*.$KV.${bucket}.>`);
  publish.add(`${JS_API}.CONSUMER.INFO.${source}.*`);
  publish.add(`${JS_API}.CONSUMER.DELETE.${source}.*`);
  publish.add(`$JS.FC.${source}.>`);
}

/** Asks its other instances which database they use, and answers them (docs/deployment.md). */
function answersDatabaseProbes(service: string, publish: Set<string>, subscribe: Set<string>): void {
  publish.add(`${DATABASE_PREFIX}${service}`);
  subscribe.add(`${DATABASE_PREFIX}${service}`);
}

/** Reads a stream's state and creates it when missing (every stream is created idempotently by its users). */
function stream(name: string, publish: Set<string>): void {
  publish.add(`${JS_API}.STREAM.INFO.${name}`);
  publish.add(`${JS_API}.STREAM.CREATE.${name}`);
}
