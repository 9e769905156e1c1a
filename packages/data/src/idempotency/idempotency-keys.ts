/**
 * @module Idempotency keys across the service databases one provider has open: their options, their
 * middleware and sweep loop, the sweep on demand, and the count of outcomes (for a counter).
 */
import type { Middleware, ResourceOwner } from "@flotilla/core";
import type { Tracer } from "@opentelemetry/api";
import type { ServiceDatabase } from "../service-database.js";
import type { SystemTables } from "../system-tables.js";
import {
  DEFAULT_IDEMPOTENCY_TTL_MS,
  type IdempotencyOutcome,
  idempotencyMiddleware,
} from "./idempotency-middleware.js";
import { DEFAULT_SWEEP_MS, IdempotencySweeper } from "./idempotency-sweeper.js";

export interface IdempotencyOptions {
  /** How long a key's answer is kept when its action does not say (default 24 hours). */
  ttlMs?: number;
  /** How often each instance deletes expired keys (default 10 minutes); false: never (`sweep()` still does). */
  sweepMs?: number | false;
}

export interface IdempotencyCount {
  readonly service: string;
  readonly outcome: IdempotencyOutcome;
  readonly count: number;
}

/** Belongs to one provider, so two apps in one process never count or sweep each other's keys. */
export class IdempotencyKeys {
  private readonly sweepers = new Set<IdempotencySweeper>();
  private readonly counts = new Map<string, { service: string; outcome: IdempotencyOutcome; count: number }>();
  private readonly ttlMs: number;
  private readonly sweepMs: number | false;

  constructor(options: IdempotencyOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
    this.sweepMs = options.sweepMs ?? DEFAULT_SWEEP_MS;
  }

  /** The middleware of one service database and its sweep loop, started; `stop` ends the loop. */
  open(
    db: ServiceDatabase<SystemTables>,
    owner: ResourceOwner,
    spans: { tracer: Tracer; attributes: Record<string, string> } | undefined,
  ): { middleware: Middleware; stop: () => Promise<void> } {
    const sweeper = new IdempotencySweeper(db, owner, this.sweepMs || 0);
    if (this.sweepMs !== false) sweeper.start();
    this.sweepers.add(sweeper);
    const middleware = idempotencyMiddleware(db, {
      ttlMs: this.ttlMs,
      record: (outcome) => this.record(owner.service, outcome),
      spans,
    });
    return {
      middleware,
      stop: () => {
        this.sweepers.delete(sweeper);
        return sweeper.stop();
      },
    };
  }

  /** Deletes the keys expired at `now` in every open database; resolves to how many. */
  async sweep(now = Date.now()): Promise<number> {
    const deleted = await Promise.all([...this.sweepers].map((s) => s.sweep(now)));
    return deleted.reduce((sum, n) => sum + n, 0);
  }

  /** Keyed requests so far, by service and outcome. */
  outcomes(): IdempotencyCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }

  private record(service: string, outcome: IdempotencyOutcome): void {
    const id = `${service}\0${outcome}`;
    const entry = this.counts.get(id);
    if (entry === undefined) this.counts.set(id, { service, outcome, count: 1 });
    else entry.count++;
  }
}
