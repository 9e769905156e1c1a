/**
 * @module The copy of the legacy's reviews: a backfill, then a loop that keeps it current while the
 * legacy still takes the writes. Both read the monolith's export (`GET /reviews?after=<n>&limit=<n>`)
 * page by page from the cursor stored in the service's database.
 *
 * Failure modes, and what each does:
 * - **legacy unreachable** (refused, reset, no answer within `timeoutMs`) or **legacy refused** (an
 *   answer other than 200): the pass stops, the cursor stays where the last committed page left it,
 *   the error is kept in the status and logged; the loop tries again after a backoff (doubling from
 *   `everyMs` up to 30 s). Nothing is lost: the next pass starts from the cursor.
 * - **malformed page** (not the export's shape): as above; the cursor cannot move past it, so the
 *   status shows the same error until the legacy is fixed.
 * - **conflict**: a legacy review whose id the service already gave its own review (a legacy write
 *   that landed after the writes moved): skipped, counted in `conflicts`, logged with the review;
 *   the service's review is never overwritten. Zero conflicts is the check that writes moved cleanly.
 * - **several instances** syncing at once: each page commits with the cursor in one transaction, and
 *   reviews already copied are left alone, so a review is copied once whatever the interleaving.
 * - **a crash mid-pass**: the pages committed stay; the next pass resumes from the cursor.
 * - A legacy review edited or deleted after it was copied is not seen again (the monolith has no edits).
 */
import type { Logger } from "@flotilla/core";
import { SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { type Kysely, sql } from "kysely";
import { z } from "zod";
import { Review, type SyncStatus } from "./contract.js";
import { importReviews } from "./review-store.js";
import type { ReviewsTables } from "./schema.js";

type Db = Kysely<ReviewsTables>;

const LegacyPage = z.object({ items: z.array(Review), lastId: z.number().int().nonnegative() });
const MAX_BACKOFF_MS = 30_000;

export interface LegacySyncOptions {
  /** The monolith's origin, e.g. `http://127.0.0.1:8081`. */
  legacyUrl: string;
  /** Pause between two passes (ms). */
  everyMs: number;
  /** Reviews read per page (the export allows up to 1000). */
  pageSize?: number;
  /** Longest wait for one page (ms). */
  timeoutMs?: number;
  log: Logger;
  /** The host's tracer: each pass is a trace of its own (none when tracing is off). */
  tracer: Tracer | undefined;
}

/** One per service instance: started in the service's start hook, stopped in its stop hook. */
export class LegacySync {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Passes run one after another, the loop's and those asked for, never two at once. */
  private passes: Promise<unknown> = Promise.resolve();
  private failures = 0;

  constructor(
    private readonly db: Db,
    private readonly options: LegacySyncOptions,
  ) {}

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.passes.catch(() => undefined);
  }

  /** A pass now (after one running): copies every legacy review after the cursor. Rejects when it failed. */
  passNow(): Promise<SyncStatus> {
    const pass = this.passes.catch(() => undefined).then(() => this.pass());
    this.passes = pass;
    return pass;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.passNow().then(
        () => {
          this.failures = 0;
          this.schedule(this.options.everyMs);
        },
        () => {
          this.failures++;
          this.schedule(Math.min(MAX_BACKOFF_MS, this.options.everyMs * 2 ** Math.min(this.failures, 10)));
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  private async pass(): Promise<SyncStatus> {
    if (!(await syncStatus(this.db)).enabled) return syncStatus(this.db);
    const tracer = this.options.tracer ?? trace.getTracer("@flotilla/example-shop");
    return tracer.startActiveSpan("reviews sync", async (span) => {
      let copied = 0;
      try {
        for (;;) {
          const { lastId } = await syncStatus(this.db);
          const page = await this.readPage(lastId);
          const { imported, conflicts } = await this.commitPage(lastId, page);
          copied += imported;
          for (const review of conflicts) {
            this.options.log.error({ review }, "legacy review skipped: the service gave its id to a review of its own");
          }
          if (page.items.length === 0) break;
        }
        await this.db.updateTable("review_sync").set({ last_error: null }).where("name", "=", "legacy").execute();
        const status = await syncStatus(this.db);
        span.setAttributes({ "reviews.copied": copied, "reviews.behind": status.behind });
        if (copied > 0) this.options.log.info({ copied, lastId: status.lastId }, "copied legacy reviews");
        return status;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message });
        await this.db.updateTable("review_sync").set({ last_error: message }).where("name", "=", "legacy").execute();
        this.options.log.warn({ err: message, legacy: this.options.legacyUrl }, "reviews sync failed; retrying");
        throw err;
      } finally {
        span.end();
      }
    });
  }

  private async readPage(after: number): Promise<z.infer<typeof LegacyPage>> {
    const url = `${this.options.legacyUrl}/reviews?after=${after}&limit=${this.options.pageSize ?? 500}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000) });
    } catch (err) {
      throw new Error(`legacy unreachable: ${(err as Error).cause ?? (err as Error).message}`);
    }
    if (res.status !== 200) throw new Error(`legacy refused: ${res.status} ${(await res.text()).slice(0, 200)}`);
    const page = LegacyPage.safeParse(await res.json().catch(() => undefined));
    if (!page.success) throw new Error(`legacy page malformed: ${page.error.issues[0]?.message ?? "not JSON"}`);
    return page.data;
  }

  /** The page's reviews and the moved cursor, in one transaction: a crash keeps both or neither. */
  private async commitPage(after: number, page: z.infer<typeof LegacyPage>) {
    return this.db.transaction().execute(async (trx) => {
      const result = await importReviews(trx, page.items);
      const last = page.items.length === 0 ? after : Number(page.items.at(-1)?.id.slice("rev-".length));
      await trx
        .updateTable("review_sync")
        .set({
          // Never backwards: another instance's pass may have gone further meanwhile.
          last_id: sql`case when last_id < ${last} then ${last} else last_id end`,
          legacy_last_id: sql`case when legacy_last_id < ${page.lastId} then ${page.lastId} else legacy_last_id end`,
          imported: sql`imported + ${result.imported}`,
          conflicts: sql`conflicts + ${result.conflicts.length}`,
          last_pass_at: new Date().toISOString(),
        })
        .where("name", "=", "legacy")
        .execute();
      return result;
    });
  }
}

/** The sync's state, from the database (the same at every instance). */
export async function syncStatus(db: Db): Promise<SyncStatus> {
  const row = await db.selectFrom("review_sync").selectAll().where("name", "=", "legacy").executeTakeFirstOrThrow();
  const lastId = Number(row.last_id);
  const legacyLastId = Number(row.legacy_last_id);
  const own = await db
    .selectFrom("reviews")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("origin", "=", "service")
    .executeTakeFirstOrThrow();
  return {
    writesTo: row.writes_to === "service" ? "service" : "legacy",
    ownReviews: Number(own.n),
    enabled: Boolean(row.enabled),
    lastId,
    legacyLastId,
    behind: Math.max(0, legacyLastId - lastId),
    imported: Number(row.imported),
    conflicts: Number(row.conflicts),
    lastPassAt: row.last_pass_at,
    lastError: row.last_error,
  };
}
