/**
 * @module The event types an app declares, as the Event flow and Dead letters views read them: who
 * publishes each, which durable groups consume it, and its schema (which says what to redact).
 */
import { type EventRef, redact } from "@flotilla/core";
import type { FlotillaApp } from "../app.js";

export interface DeclaredEvent {
  readonly type: string;
  /** The service whose contract declares it (the one that emits it). */
  readonly publisher: string;
  /** Durable consumer groups (`service.subscription`), sorted. */
  readonly groups: readonly string[];
  /** Broadcast subscribers (`service.subscription`): every instance gets every event, no backlog is kept. */
  readonly broadcasts: readonly string[];
  readonly ref: EventRef;
}

/** Every event type the app's services declare or subscribe to, by type, sorted. */
export function declaredEvents(app: FlotillaApp | undefined): Map<string, DeclaredEvent> {
  const found = new Map<string, { ref: EventRef; groups: Set<string>; broadcasts: Set<string> }>();
  const entry = (ref: EventRef) => {
    let e = found.get(ref.type);
    if (e === undefined) {
      e = { ref, groups: new Set(), broadcasts: new Set() };
      found.set(ref.type, e);
    }
    return e;
  };
  for (const service of app?.services ?? []) {
    for (const ref of Object.values(service.contract.events) as EventRef[]) entry(ref);
    for (const sub of service.subscriptions) {
      const e = entry(sub.event);
      (sub.broadcast ? e.broadcasts : e.groups).add(`${service.name}.${sub.name}`);
    }
  }
  const types = [...found.keys()].sort();
  return new Map(
    types.map((type) => {
      const e = found.get(type) as { ref: EventRef; groups: Set<string>; broadcasts: Set<string> };
      return [
        type,
        {
          type,
          publisher: e.ref.service,
          groups: [...e.groups].sort(),
          broadcasts: [...e.broadcasts].sort(),
          ref: e.ref,
        },
      ];
    }),
  );
}

/**
 * An event's data as an operator may see it: fields its contract marks sensitive read "[redacted]". An
 * event type the app does not declare has no schema to say what is safe, so none of its data is shown.
 */
export function shownData(events: Map<string, DeclaredEvent>, type: string, data: unknown): unknown {
  const declared = events.get(type);
  return declared === undefined ? "[redacted: not a declared event type]" : redact(declared.ref.schema, data);
}
