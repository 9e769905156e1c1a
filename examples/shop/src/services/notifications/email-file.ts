/**
 * @module The email outbox, written to a file instead of sent: one JSON line per email,
 * `{id, to, subject, body, at}`, appended by a small loop from the `emails` table.
 *
 * Nothing is lost: an email is stored in the transaction that makes its notification, and marked sent
 * only after its line was appended and flushed to disk. A crash between the two writes the line again
 * on the next run: a line may be duplicated (same `id`, same content), never lost. Readers deduplicate
 * by `id`.
 */
import { randomUUID } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Logger } from "@flotilla/core";
import type { ExpressionBuilder, Kysely } from "kysely";
import type { NotificationsTables } from "./schema.js";

type Db = Kysely<NotificationsTables>;
type EmailRow = NotificationsTables["emails"];

export interface EmailLine {
  id: string;
  to: string;
  subject: string;
  body: string;
  /** When the email was queued (its notification's time): the same in a duplicated line. */
  at: string;
}

/**
 * SHOP_EMAIL_FILE, else `emails.jsonl` in the data directory (FLOTILLA_DATA_DIR, else `.flotilla/data`).
 * A relative path is taken from where npm ran (INIT_CWD), as main.ts does for the data directory, so
 * the file sits beside the databases under `npm start`.
 */
export function emailFileFrom(env: NodeJS.ProcessEnv = process.env): string {
  const file = env.SHOP_EMAIL_FILE || join(env.FLOTILLA_DATA_DIR || ".flotilla/data", "emails.jsonl");
  return resolve(env.INIT_CWD ?? process.cwd(), file);
}

export interface EmailWriterOptions {
  file: string;
  /** Pause between two passes over the table (ms). */
  everyMs: number;
  log: Logger;
  /** Emails claimed and appended at once (100). */
  batchSize?: number;
  /** How long a claim keeps other instances off an email (30 s): past it, a stalled writer's emails are taken over. */
  leaseMs?: number;
}

/** One per service instance: started in the service's start hook, stopped (after a last pass) in its stop hook. */
export class EmailWriter {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Passes run one after another, the loop's and any asked for, never two at once. */
  private passes: Promise<unknown> = Promise.resolve();
  private readonly batchSize: number;
  private readonly leaseMs: number;

  constructor(
    private readonly db: Db,
    private readonly options: EmailWriterOptions,
  ) {
    this.batchSize = options.batchSize ?? 100;
    this.leaseMs = options.leaseMs ?? 30_000;
  }

  start(): void {
    this.schedule();
  }

  /** Stops the loop, then makes a last pass so a clean shutdown leaves nothing behind. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.flush().catch((err: unknown) => this.options.log.warn({ err }, "last email pass failed"));
  }

  /** Appends every unsent email this writer can claim; resolves with how many it wrote. */
  flush(): Promise<number> {
    const pass = this.passes.then(() => this.writeAll());
    this.passes = pass.catch(() => undefined);
    return pass;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.flush()
        .catch((err: unknown) => this.options.log.warn({ err }, "writing emails failed; retrying"))
        .finally(() => this.schedule());
    }, this.options.everyMs);
    // The loop alone never keeps the process alive.
    this.timer.unref();
  }

  private async writeAll(): Promise<number> {
    let written = 0;
    for (;;) {
      const batch = await this.writeBatch();
      written += batch;
      if (batch < this.batchSize) return written;
    }
  }

  private async writeBatch(): Promise<number> {
    const now = new Date();
    const claim = randomUUID();
    const unclaimed = (eb: ExpressionBuilder<NotificationsTables, "emails">) =>
      eb.and([
        eb("sent_at", "is", null),
        eb.or([eb("claimed_until", "is", null), eb("claimed_until", "<", now.toISOString())]),
      ]);
    // The condition again outside the subquery: PostgreSQL rechecks it on a row another instance
    // claimed meanwhile, so only one of them gets it.
    await this.db
      .updateTable("emails")
      .set({ claimed_by: claim, claimed_until: new Date(now.getTime() + this.leaseMs).toISOString() })
      .where("id", "in", (eb) =>
        eb.selectFrom("emails").select("id").where(unclaimed).orderBy("created_at").orderBy("id").limit(this.batchSize),
      )
      .where(unclaimed)
      .execute();
    const rows = await this.db
      .selectFrom("emails")
      .selectAll()
      .where("claimed_by", "=", claim)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    if (rows.length === 0) return 0;
    await appendLines(this.options.file, rows.map(toLine));
    await this.db
      .updateTable("emails")
      .set({ sent_at: new Date().toISOString() })
      .where("claimed_by", "=", claim)
      .execute();
    return rows.length;
  }
}

function toLine(row: EmailRow): EmailLine {
  return { id: row.id, to: row.recipient, subject: row.subject, body: row.body, at: row.created_at };
}

/** Appends the lines and waits until they are on disk. */
async function appendLines(file: string, lines: EmailLine[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const handle = await open(file, "a+");
  try {
    // A crash mid-append can leave a torn last line: start on a line of our own, not glued to it.
    const { size } = await handle.stat();
    const last = Buffer.alloc(1);
    if (size > 0) await handle.read(last, 0, 1, size - 1);
    const text = lines.map((line) => `${JSON.stringify(line)}\n`).join("");
    await handle.appendFile(size > 0 && last[0] !== 0x0a ? `\n${text}` : text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
