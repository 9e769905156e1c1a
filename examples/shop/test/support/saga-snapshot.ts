/**
 * A checkout caught in flight, as rows: the order, its saga, journal and pending command (orders'
 * database), and the stock it holds (inventory's). Recorded by record-checkout-journal.ts, replayed by
 * checkout-replay.test.ts against whatever code the shop has then.
 */
import { join } from "node:path";
import Database from "better-sqlite3";

export const SNAPSHOT_TABLES = {
  orders: ["orders", "order_items", "flotilla_sagas", "flotilla_saga_journal", "flotilla_outbox"],
  inventory: ["reservations", "stock"],
} as const;

export type Snapshot = Record<string, Record<string, Record<string, unknown>[]>>;

/** Rows of the snapshot's tables, from the services' SQLite files in `dataDir`. */
export function readSnapshot(dataDir: string): Snapshot {
  const snapshot: Snapshot = {};
  for (const [service, tables] of Object.entries(SNAPSHOT_TABLES)) {
    const db = new Database(join(dataDir, `${service}.sqlite`), { readonly: true });
    try {
      snapshot[service] = Object.fromEntries(
        tables.map((t) => [t, db.prepare(`select * from ${t}`).all() as Record<string, unknown>[]]),
      );
    } finally {
      db.close();
    }
  }
  return snapshot;
}

/** Puts the snapshot's rows into freshly migrated service databases (their own rows in those tables replaced). */
export function writeSnapshot(dataDir: string, snapshot: Snapshot): void {
  for (const [service, tables] of Object.entries(snapshot)) {
    const db = new Database(join(dataDir, `${service}.sqlite`));
    try {
      db.transaction(() => {
        for (const [table, rows] of Object.entries(tables)) {
          if (table === "stock") {
            // The seeded stock stays; the snapshot's rows say what its reservations hold.
            for (const row of rows) {
              db.prepare("update stock set on_hand = ?, reserved = ? where product_id = ?").run(
                row.on_hand,
                row.reserved,
                row.product_id,
              );
            }
            continue;
          }
          db.prepare(`delete from ${table}`).run();
          for (const row of rows) {
            const columns = Object.keys(row);
            const sql = `insert into ${table} (${columns.join(", ")}) values (${columns.map(() => "?").join(", ")})`;
            db.prepare(sql).run(...columns.map((c) => row[c]));
          }
        }
      })();
    } finally {
      db.close();
    }
  }
}
