/**
 * @module Idempotency keys, kept by the runtime: the first answer to (caller, action, key) is stored in
 * the same transaction as the handler's effect, and a repeat gets it back without the handler running.
 */
import {
  checkIdempotencyKey,
  FlotillaCodes,
  FlotillaError,
  fromWire,
  Headers,
  type InboundAction,
  type Middleware,
  toWire,
} from "@flotilla/core";
import { SpanTrace } from "@flotilla/telemetry";
import type { Tracer } from "@opentelemetry/api";
import { sql, type Transaction } from "kysely";
import { joinable, type ServiceDatabase } from "../service-database.js";
import type { SystemTables } from "../system-tables.js";
import { inTransactionSpan } from "../transaction-spans.js";
import { requestHash } from "./request-hash.js";

/**
 * What became of a keyed request: `stored` (the handler ran; its answer is kept), `replayed` (a kept
 * answer given again), `reused` (the key came with another input: refused), `not_stored` (the handler
 * failed in a way that may pass on a retry: nothing kept, the key stays free).
 */
export type IdempotencyOutcome = "stored" | "replayed" | "reused" | "not_stored";

export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export interface IdempotencyMiddlewareOptions {
  /** How long a key is kept when its action does not say (`idempotencyKey.ttlMs`). */
  ttlMs: number;
  /** Told each keyed request's outcome (for a counter). */
  record: (outcome: IdempotencyOutcome) => void;
  spans?: { tracer: Tracer; attributes: Record<string, string> } | undefined;
}

type Scope = { caller: string; action: string; key: string };
type Stored = SystemTables["flotilla_idempotency"];
/** What one transaction settled: the handler's answer, or a kept row to answer from (none: look again). */
type Settled = { ran: { output: unknown } | { error: unknown } } | { stored: Stored } | undefined;

/** Statuses that may pass on a retry, or say nothing about the request: their failures are not kept. */
const TRANSIENT = new Set(["INTERNAL", "UNKNOWN", "DATA_LOSS", "CANCELLED"]);
const ATTEMPTS = 3;

/**
 * For actions whose contract declares `idempotencyKey`, on requests that carry the `idempotency-key`
 * header; every other request passes through untouched.
 */
export function idempotencyMiddleware(
  db: ServiceDatabase<SystemTables>,
  options: IdempotencyMiddlewareOptions,
): Middleware {
  const { spans } = options;
  return {
    name: "idempotency",
    action(inv: InboundAction, next: () => Promise<unknown>): Promise<unknown> {
      const declared = inv.ref.idempotencyKey;
      const header = inv.request.headers?.[Headers.idempotencyKey];
      if (declared === undefined || header === undefined) return next();
      let scope: Scope;
      try {
        scope = {
          caller: inv.ctx.caller?.subject ?? "anonymous",
          action: inv.ref.fqn,
          key: checkIdempotencyKey(header),
        };
      } catch (err) {
        return Promise.reject(err);
      }
      const answer = () => answerOnce(db, inv, scope, declared.ttlMs ?? options.ttlMs, next, options.record);
      return spans === undefined ? answer() : inTransactionSpan(spans.tracer, inv.ctx, spans.attributes, answer);
    },
  };
}

async function answerOnce(
  db: ServiceDatabase<SystemTables>,
  inv: InboundAction,
  scope: Scope,
  ttlMs: number,
  next: () => Promise<unknown>,
  record: (outcome: IdempotencyOutcome) => void,
): Promise<unknown> {
  const hash = requestHash(inv.input);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let settled: Settled;
    try {
      settled = await db.run((trx) => claimOrRead(trx, inv, scope, hash, ttlMs, next));
    } catch (err) {
      // The handler failed in a way worth retrying: its effect and the key rolled back together.
      record("not_stored");
      throw err;
    }
    if (settled === undefined) continue;
    if ("ran" in settled) {
      mark(inv, "stored");
      record("stored");
      if ("error" in settled.ran) throw settled.ran.error;
      return settled.ran.output;
    }
    const stored = settled.stored;
    if (stored.request_hash !== hash) {
      record("reused");
      throw FlotillaError.of(
        FlotillaCodes.IDEMPOTENCY_KEY_REUSED,
        `idempotency key used before for ${scope.action} with another input`,
        { details: { action: scope.action } },
      );
    }
    mark(inv, "replayed");
    record("replayed");
    if (stored.outcome === "error") throw fromWire(JSON.parse(stored.answer ?? "null"));
    return stored.answer === null ? undefined : JSON.parse(stored.answer);
  }
  throw new FlotillaError("ABORTED", `idempotency key of ${scope.action} changed while it was read; try again`);
}

/**
 * Claims the key by inserting its row, or reads the row kept for it. A concurrent request with the same
 * key waits on the primary key until the claimer's transaction ends (PostgreSQL) or for the database
 * itself (SQLite), then reads the committed answer: the handler never runs twice.
 */
async function claimOrRead(
  trx: Transaction<SystemTables>,
  inv: InboundAction,
  scope: Scope,
  hash: string,
  ttlMs: number,
  next: () => Promise<unknown>,
): Promise<Settled> {
  const now = Date.now();
  const claimed = await trx
    .insertInto("flotilla_idempotency")
    .values({
      ...scope,
      request_hash: hash,
      outcome: "pending",
      answer: null,
      created_at: now,
      expires_at: now + ttlMs,
    })
    .onConflict((oc) => oc.columns(["caller", "action", "key"]).doNothing())
    .executeTakeFirst();
  if (Number(claimed.numInsertedOrUpdatedRows ?? 0n) === 1) return { ran: await runAndKeep(trx, inv, scope, next) };
  const stored = await byScope(trx.selectFrom("flotilla_idempotency").selectAll(), scope).executeTakeFirst();
  if (stored === undefined) return undefined; // swept meanwhile: claim it again
  if (stored.expires_at > now) return { stored };
  await byScope(trx.deleteFrom("flotilla_idempotency"), scope).execute();
  return undefined;
}

/**
 * Runs the handler in the transaction that holds the claim (`ctx.db` is that transaction). A success, or
 * a failure that is the answer (not retryable, not a fault of ours), is kept with the key; the failure's
 * effects are rolled back to a savepoint first. Any other failure rolls the whole transaction back.
 */
async function runAndKeep(
  trx: Transaction<SystemTables>,
  inv: InboundAction,
  scope: Scope,
  next: () => Promise<unknown>,
): Promise<{ output: unknown } | { error: unknown }> {
  await sql`savepoint flotilla_idempotency`.execute(trx);
  inv.ctx.db = joinable(trx);
  let kept: { output: unknown } | { error: unknown };
  let answer: string | null;
  try {
    const output = await next();
    kept = { output };
    answer = JSON.stringify(output) ?? null;
  } catch (err) {
    const failure = FlotillaError.from(err);
    if (failure.retryable || TRANSIENT.has(failure.status)) throw err;
    await sql`rollback to savepoint flotilla_idempotency`.execute(trx);
    kept = { error: err };
    answer = JSON.stringify(toWire(failure));
  }
  await byScope(
    trx.updateTable("flotilla_idempotency").set({ outcome: "error" in kept ? "error" : "ok", answer }),
    scope,
  ).execute();
  return kept;
}

/** Narrows a query to one key's row. */
function byScope<Q extends { where(column: "caller" | "action" | "key", op: "=", value: string): Q }>(
  query: Q,
  scope: Scope,
): Q {
  return query.where("caller", "=", scope.caller).where("action", "=", scope.action).where("key", "=", scope.key);
}

/** `flotilla.idempotency` on the action's span, when a tracing middleware opened one. */
function mark(inv: InboundAction, outcome: "stored" | "replayed"): void {
  if (inv.ctx.trace instanceof SpanTrace) inv.ctx.trace.span.setAttribute("flotilla.idempotency", outcome);
}
