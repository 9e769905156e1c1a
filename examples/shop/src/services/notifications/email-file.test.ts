import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLogger } from "@flotilla/core";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmailWriter, emailFileFrom } from "./email-file.js";
import { recipientOf, rememberRecipient } from "./recipients.js";
import { type NotificationsTables, notificationsMigrations } from "./schema.js";

const log = createLogger({ level: "silent", name: "test" });
const dir = mkdtempSync(join(tmpdir(), "shop-email-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let db: Kysely<NotificationsTables>;
let n = 0;
beforeEach(async () => {
  db = new Kysely<NotificationsTables>({ dialect: new SqliteDialect({ database: new Database(":memory:") }) });
  await notificationsMigrations["001_notifications"].up(db);
});
afterEach(() => db.destroy());

async function queue(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = `email-${++n}`;
    await db
      .insertInto("emails")
      .values({
        id,
        notification_id: `n-${id}`,
        recipient: "ada@example.org",
        subject: `subject ${id}`,
        body: `body of ${id}`,
        created_at: new Date(Date.UTC(2030, 0, 1, 0, 0, 0, n)).toISOString(),
        claimed_by: null,
        claimed_until: null,
        sent_at: null,
      })
      .execute();
  }
}

const lines = (file: string) => readFileSync(file, "utf8").split("\n").filter(Boolean);
const unsent = async () =>
  (await db.selectFrom("emails").select("id").where("sent_at", "is", null).execute()).map((r) => r.id);

describe("the email file", () => {
  it("appends one JSON line per email, in batches, and marks them sent", async () => {
    const file = join(dir, "batches", "emails.jsonl");
    await queue(7);
    const writer = new EmailWriter(db, { file, everyMs: 60_000, log, batchSize: 3 });
    expect(await writer.flush()).toBe(7);
    expect(await writer.flush()).toBe(0);
    const written = lines(file).map((l) => JSON.parse(l));
    expect(written).toHaveLength(7);
    expect(written[0]).toEqual({
      id: expect.stringMatching(/^email-/),
      to: "ada@example.org",
      subject: expect.stringMatching(/^subject /),
      body: expect.stringMatching(/^body of /),
      at: expect.any(String),
    });
    expect(await unsent()).toEqual([]);
  });

  it("keeps an email unsent while the file cannot be written, and writes it once it can", async () => {
    const file = join(dir, "blocked", "emails.jsonl");
    mkdirSync(file, { recursive: true }); // a directory where the file should be
    await queue(2);
    const writer = new EmailWriter(db, { file, everyMs: 60_000, log, leaseMs: 0 });
    await expect(writer.flush()).rejects.toThrow();
    expect(await unsent()).toHaveLength(2);
    rmSync(file, { recursive: true });
    expect(await writer.flush()).toBe(2);
    expect(lines(file)).toHaveLength(2);
  });

  it("leaves an email claimed by another writer alone until that claim lapses", async () => {
    const file = join(dir, "claimed", "emails.jsonl");
    await queue(2);
    const [first, second] = await db.selectFrom("emails").select("id").orderBy("id").execute();
    const soon = new Date(Date.now() + 60_000).toISOString();
    const lapsed = new Date(Date.now() - 1).toISOString();
    await db
      .updateTable("emails")
      .set({ claimed_by: "other", claimed_until: soon })
      .where("id", "=", first!.id)
      .execute();
    await db
      .updateTable("emails")
      .set({ claimed_by: "dead", claimed_until: lapsed })
      .where("id", "=", second!.id)
      .execute();
    const writer = new EmailWriter(db, { file, everyMs: 60_000, log });
    expect(await writer.flush()).toBe(1);
    expect(lines(file).map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([second!.id]);
    expect(await unsent()).toEqual([first!.id]);
  });

  it("writes each email once with two writers at work together", async () => {
    const file = join(dir, "two-writers", "emails.jsonl");
    await queue(40);
    const a = new EmailWriter(db, { file, everyMs: 60_000, log, batchSize: 5 });
    const b = new EmailWriter(db, { file, everyMs: 60_000, log, batchSize: 5 });
    const [byA, byB] = await Promise.all([a.flush(), b.flush()]);
    expect(byA + byB).toBe(40);
    const ids = lines(file).map((l) => (JSON.parse(l) as { id: string }).id);
    expect(new Set(ids).size).toBe(40);
    expect(ids).toHaveLength(40);
  });

  it("starts on a fresh line after a torn one a crash left behind", async () => {
    const file = join(dir, "torn", "emails.jsonl");
    mkdirSync(join(dir, "torn"));
    appendFileSync(file, '{"id":"email-torn","to":"ada@exa');
    await queue(1);
    await new EmailWriter(db, { file, everyMs: 60_000, log }).flush();
    const [torn, whole] = lines(file);
    expect(torn).toBe('{"id":"email-torn","to":"ada@exa');
    expect(JSON.parse(whole!)).toMatchObject({ to: "ada@example.org" });
  });

  it("runs as a loop until stopped, with a last pass on stop", async () => {
    const file = join(dir, "loop", "emails.jsonl");
    const writer = new EmailWriter(db, { file, everyMs: 10, log });
    writer.start();
    await queue(1);
    await expect.poll(() => unsent()).toEqual([]);
    await writer.stop();
    await queue(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(await unsent()).toHaveLength(1);
    expect(lines(file)).toHaveLength(1);
  });

  it("is SHOP_EMAIL_FILE, else emails.jsonl in the data directory, taken from where npm ran", () => {
    expect(emailFileFrom({ SHOP_EMAIL_FILE: "/var/mail/shop.jsonl" })).toBe("/var/mail/shop.jsonl");
    expect(emailFileFrom({ FLOTILLA_DATA_DIR: "/srv/data" })).toBe("/srv/data/emails.jsonl");
    expect(emailFileFrom({ INIT_CWD: "/home/me/shop" })).toBe("/home/me/shop/.flotilla/data/emails.jsonl");
    expect(emailFileFrom({})).toBe(resolve(".flotilla/data/emails.jsonl"));
  });
});

describe("the recipients copy", () => {
  it("takes the later event's copy whichever arrives last", async () => {
    await rememberRecipient(db, "u1", { name: "New", email: "new@example.org" }, "2030-01-01T10:00:00.000Z");
    await rememberRecipient(db, "u1", { name: "Old", email: "old@example.org" }, "2030-01-01T09:00:00.000Z");
    expect(await recipientOf(db, "u1")).toEqual({ name: "New", email: "new@example.org" });
    await rememberRecipient(db, "u1", { name: "Newer", email: "newer@example.org" }, "2030-01-01T10:00:00.001Z");
    expect(await recipientOf(db, "u1")).toEqual({ name: "Newer", email: "newer@example.org" });
    expect(await recipientOf(db, "u2")).toBeUndefined();
  });
});
