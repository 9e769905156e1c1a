/** @module defineProjection: a read model in the consuming service's own database, built from events. */
import {
  type Context,
  type EventMeta,
  type EventRef,
  FlotillaCodes,
  FlotillaError,
  type ProjectionDefinition,
  type SubscriptionDefinitionOf,
  type SubscriptionOptions,
} from "@flotilla/core";
import type { Kysely } from "kysely";
import type { z } from "zod";
import type { SystemTables } from "../system-tables.js";
import { isParking, park } from "./projection-state.js";

type Handlers<DB, Subs extends Record<string, EventRef>> = {
  [K in keyof Subs]: Omit<SubscriptionOptions, "exactlyOnce" | "broadcast"> & {
    event: Subs[K];
    handle(data: z.output<Subs[K]["schema"]>, ctx: Context<Kysely<DB>>, meta: EventMeta): Promise<void>;
  };
};

export interface ProjectionOptions<DB, Subs extends Record<string, EventRef>> {
  /** Names the projection for `flotilla replay`; its handlers become subscriptions `<name>.<handler>`. */
  name: string;
  /**
   * Handlers by name. Each runs exactly once per event, in a transaction of the service's database
   * (`ctx.db`), and should only write the projection's tables: never call, never emit.
   */
  handlers: Handlers<DB, Subs>;
  /** Empties the projection's tables; runs in the rebuild's first transaction. */
  reset(db: Kysely<DB>): Promise<void>;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * Declares a projection; list it in `defineService(contract, { database, projections: [...] })`.
 * While `flotilla replay` rebuilds it, live events are parked in the service's database and applied
 * when the replay has caught up, so none is lost and none applied twice.
 */
export function defineProjection<DB, Subs extends Record<string, EventRef>>(
  options: ProjectionOptions<DB, Subs>,
): ProjectionDefinition<Kysely<DB>> {
  const name = options.name;
  if (typeof name !== "string" || !NAME.test(name)) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `projection name "${String(name)}" must match ${NAME}`);
  }
  if (typeof options.reset !== "function") {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `projection ${name} needs reset(db)`);
  }
  const subscriptions: Record<string, SubscriptionDefinitionOf<Kysely<DB>>> = {};
  const handlers: Record<string, ProjectionDefinition<Kysely<DB>>["handlers"][string]> = {};
  for (const [handler, def] of Object.entries(options.handlers) as [string, Handlers<DB, Subs>[string]][]) {
    if (typeof def?.handle !== "function") {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `projection ${name}: handler "${handler}" needs handle()`);
    }
    const live = async (data: unknown, ctx: Context<Kysely<DB>>, meta: EventMeta) => {
      const db = ctx.db as unknown as Kysely<SystemTables>;
      if (await isParking(db, name)) {
        await park(db, name, `${ctx.service}.${name}.${handler}`, meta.envelope);
        return;
      }
      await def.handle(data as never, ctx, meta);
    };
    subscriptions[handler] = { ...def, exactlyOnce: true, handle: live };
    // The rebuild applies the history with the handler itself: past the parking check, which would
    // see that very rebuild running.
    handlers[handler] = Object.freeze({
      event: def.event,
      handle: (data: unknown, ctx: Context<Kysely<DB>>, meta: EventMeta) => def.handle(data as never, ctx, meta),
    });
  }
  return Object.freeze({
    kind: "projection" as const,
    name,
    subscriptions: Object.freeze(subscriptions),
    handlers: Object.freeze(handlers),
    reset: options.reset,
  });
}
