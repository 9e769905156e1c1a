/**
 * @module The sweep of expired idempotency keys: a small loop per service instance that deletes the
 * keys whose time is up.
 *
 * Failure modes, and what follows:
 * - the database is unreachable, or a sweep fails: logged as a warning; the next tick sweeps again,
 *   and meanwhile expired keys only take room (a request meeting one replaces it, see the middleware);
 * - the instance dies during a sweep: the delete rolls back; the next sweep (of any instance) does it;
 * - several instances sweep the same database: each deletes what has expired by its clock; a key
 *   deleted twice is deleted once. Clocks that disagree move a key's end by that much.
 */
import type { ResourceOwner } from "@flotilla/core";
import type { Kysely } from "kysely";
import type { SystemTables } from "../system-tables.js";

/** Every 10 minutes by default: a key outlives its time by at most that. */
export const DEFAULT_SWEEP_MS = 10 * 60_000;

export class IdempotencySweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(
    private readonly db: Kysely<SystemTables>,
    private readonly owner: ResourceOwner,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(this.tick, this.everyMs);
    this.timer.unref();
  }

  /** Deletes the keys expired at `now`; resolves to how many. */
  async sweep(now = Date.now()): Promise<number> {
    const result = await this.db.deleteFrom("flotilla_idempotency").where("expires_at", "<=", now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Stops the loop, waiting for a sweep under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  private readonly tick = (): void => {
    if (this.sweeping !== undefined) return;
    this.sweeping = this.sweep()
      .then(
        (deleted) => {
          if (deleted > 0) this.owner.log.debug({ deleted }, "expired idempotency keys swept");
        },
        (err: unknown) => this.owner.log.warn({ err }, "idempotency key sweep failed; the next one tries again"),
      )
      .finally(() => {
        this.sweeping = undefined;
      });
  };
}
