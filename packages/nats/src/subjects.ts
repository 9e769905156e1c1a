/** @module Subjects, stream and consumer names of the NATS transport (see README.md for the table). */

export const RPC_PREFIX = "flotilla.rpc.";
export const INSTANCE_PREFIX = "flotilla.inst.";
export const EVENT_PREFIX = "flotilla.evt.";
export const DLQ_PREFIX = "flotilla.dlq.";
export const DLQ_STREAM = "FLOTILLA_DLQ";
/** The probe `isAvailable` sends; servers answer it at once, outside their request queue. */
export const PING_ACTION = "$ping";

/** `catalog.getProduct` → `catalog`. */
export function serviceOf(name: string): string {
  const dot = name.indexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

/** Queue-group requests for one action: `flotilla.rpc.catalog.getProduct`. */
export const rpcSubject = (action: string): string => RPC_PREFIX + action;

/** What every instance of a service subscribes to, in the queue group named after the service. */
export const rpcServiceSubject = (service: string): string => `${RPC_PREFIX}${service}.>`;

/** Requests addressed to one instance: `flotilla.inst.<instance>.catalog.getProduct`. */
export const instanceSubject = (instance: string, action: string): string => `${INSTANCE_PREFIX}${instance}.${action}`;

/**
 * What an instance subscribes to for each service it serves: `flotilla.inst.<instance>.<service>.>`, so
 * credentials can allow a service its own instance subjects only (`flotilla.inst.*.<service>.>`).
 */
export const instanceWildcard = (instance: string, service: string): string =>
  `${INSTANCE_PREFIX}${instance}.${service}.>`;

/** `orders.OrderPlaced` → `flotilla.evt.orders.OrderPlaced`. */
export const eventSubject = (type: string): string => EVENT_PREFIX + type;

/** One stream per emitting service: `FLOTILLA_EVT_ORDERS` on `flotilla.evt.orders.>`. */
export const eventStream = (service: string): string => `FLOTILLA_EVT_${safeName(service).toUpperCase()}`;

export const eventStreamSubjects = (service: string): string => `${EVENT_PREFIX}${service}.>`;

/** Durable name of a consumer group: `listener.ticks` → `listener_ticks` (names cannot hold dots). */
export const durableName = (group: string): string => safeName(group);

/** `flotilla.dlq.<group>`; the group keeps its dots, so `flotilla.dlq.listener.ticks`. */
export const dlqSubject = (group: string): string => DLQ_PREFIX + safeSubject(group);

/** Letters, digits, `-` and `_` only: what stream and consumer names (and file names) accept everywhere. */
export function safeName(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, "_");
}

/** Keeps dots as token separators but replaces wildcards, whitespace and empty tokens. */
export function safeSubject(value: string): string {
  return value
    .split(".")
    .map((token) => token.replace(/[\s*>]/g, "_") || "_")
    .join(".");
}

/** Whether a service, action or instance name can be put into a subject as is. */
export function isSubjectSafe(value: string): boolean {
  return value.length > 0 && !/[\s*>]/.test(value) && !value.split(".").includes("");
}
