/**
 * @module A stand-in for another service in a service's tests: named like the real one, it emits that
 * service's real events on demand, so a subscriber under test receives them the way it would in the shop.
 */
import {
  action,
  defineContract,
  defineService,
  type EventRef,
  type Host,
  type Schema,
  type ServiceDefinition,
} from "@flotilla/core";
import { z } from "zod";

export interface EventSource {
  /** Put it in the test's host instead of the real service (a service emits only its own events). */
  readonly service: ServiceDefinition;
  /** Emits one of the real service's events, validated against its schema, through the host's transport. */
  emit<S extends Schema>(host: Host, ref: EventRef<S>, data: z.input<S>): Promise<void>;
}

export function eventSource(service: string): EventSource {
  // The action receives the event by type (its input crosses the transport as JSON), and finds the ref here.
  const refs = new Map<string, EventRef>();
  const contract = defineContract({
    service,
    actions: {
      emitEvent: action({ input: z.object({ type: z.string(), data: z.unknown() }), output: z.undefined() }),
    },
  });
  return {
    service: defineService(contract, {
      actions: {
        async emitEvent({ type, data }, ctx) {
          const ref = refs.get(type);
          if (ref === undefined) throw new Error(`${service} stand-in: no event ${type} was given to emit()`);
          await ctx.emit(ref, data);
        },
      },
    }),
    async emit(host, ref, data) {
      if (ref.service !== service) throw new Error(`${ref.type} is not an event of ${service}`);
      refs.set(ref.type, ref);
      await host.call(contract.emitEvent, { type: ref.type, data });
    },
  };
}
