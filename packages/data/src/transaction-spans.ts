/**
 * @module A span per database transaction a handler runs: `ctx.db.transaction().execute(…)`,
 * `ctx.db.run(…)` and the inbox's transaction around an exactly-once event, each a child of the
 * handler's span. A transaction that joins one already running is part of it and gets no span of its
 * own; queries outside transactions get none (they are the handler's own time).
 */
import type { Context, InboundAction, InboundEvent, Middleware } from "@flotilla/core";
import { parentContext, settle } from "@flotilla/telemetry/internal";
import { SpanKind, type Tracer } from "@opentelemetry/api";
import type { Transaction } from "kysely";
import type { ServiceDatabase, UnitOfWork } from "./service-database.js";

/**
 * Middleware that gives each handler a `ctx.db` whose transactions record spans under the handler's
 * span; list it before the inbox, so the inbox's transaction is traced too.
 */
export function transactionSpans(
  db: ServiceDatabase<never>,
  tracer: Tracer,
  attributes: Record<string, string>,
): Middleware {
  const trace = (ctx: Context) => {
    ctx.db = tracedView(db, ctx, tracer, attributes);
  };
  return {
    name: "transaction-spans",
    action(inv: InboundAction, next) {
      trace(inv.ctx);
      return next();
    },
    event(inv: InboundEvent, next) {
      trace(inv.ctx);
      return next();
    },
  };
}

/** Runs `fn` as a transaction span of `ctx`'s current span. */
export function inTransactionSpan<T>(
  tracer: Tracer,
  ctx: Context,
  attributes: Record<string, string>,
  fn: () => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan("db transaction", { kind: SpanKind.CLIENT, attributes }, parentContext(ctx.trace));
  return settle(span, fn);
}

type Builder = { execute<T>(callback: (trx: unknown) => Promise<T>): Promise<T> } & Record<string, unknown>;

/**
 * The service's database as one handler sees it: the same object in every respect, but a transaction
 * it opens (and does not join) is wrapped in a span. Kysely keeps state in #private fields, so every
 * other member is read from, and bound to, the real object.
 */
function tracedView(
  db: ServiceDatabase<never>,
  ctx: Context,
  tracer: Tracer,
  attributes: Record<string, string>,
): ServiceDatabase<never> {
  const spanned = <T>(fn: () => Promise<T>) => inTransactionSpan(tracer, ctx, attributes, fn);
  return new Proxy(db, {
    get(target, property) {
      if (property === "transaction") {
        return () => {
          const builder = target.transaction() as unknown as Builder;
          if (target.current() !== undefined) return builder;
          return withSpannedExecute(builder, spanned);
        };
      }
      if (property === "run") {
        return <T>(fn: (trx: Transaction<never>, work: UnitOfWork) => Promise<T>) =>
          target.current() !== undefined ? target.run(fn) : spanned(() => target.run(fn));
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function withSpannedExecute(builder: Builder, spanned: <T>(fn: () => Promise<T>) => Promise<T>): Builder {
  return new Proxy(builder, {
    get(target, property) {
      if (property === "execute") {
        return <T>(callback: (trx: unknown) => Promise<T>) => spanned(() => target.execute(callback));
      }
      if (property === "setAccessMode" || property === "setIsolationLevel") {
        return (value: unknown) =>
          withSpannedExecute((target[property] as (v: unknown) => Builder).call(target, value), spanned);
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
