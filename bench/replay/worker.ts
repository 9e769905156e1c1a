/**
 * @module The replay benchmark's in-process sides (bundled by profile.ts, so no app or CLI here):
 *
 * - `ceiling`: the same upserts the shop's `sales` projection makes, by a plain loop over better-sqlite3:
 *   the journal read in seq windows, each envelope JSON-parsed, a prepared upsert per product, one
 *   transaction per `--batch` events (default 500).
 * - `rebuild`: `rebuildProjection` of `catalog.sales` in this process, the history read from the journal.
 *
 * Each prints `{ events, seconds, cpuUs }` (CPU time of this process over the run) on stdout.
 */
import { join } from "node:path";
import type { ResourceOwner } from "@flotilla/core";
import { databaseProvider, eventJournalFile, type Kysely, openEventJournal, rebuildProjection } from "@flotilla/data";
import { sqliteDialect } from "@flotilla/data/internal";
import Database from "better-sqlite3";
import { catalogService } from "../../examples/shop/src/services/catalog/service.js";
import { dataDir, measured, quiet, TYPE, values } from "./common.js";

if (values.role === "ceiling") await measured(() => ceiling(Number(values.batch ?? 500)));
else if (values.role === "rebuild") {
  await measured(() => rebuild(values.batch === undefined ? undefined : Number(values.batch)));
} else throw new Error(`unknown role ${values.role}`);
process.exit(0);

async function ceiling(batch: number): Promise<number> {
  const journal = new Database(eventJournalFile(dataDir), { readonly: true });
  const db = new Database(join(dataDir, "catalog.sqlite"));
  db.pragma("busy_timeout = 5000");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec("delete from product_sales");
  const upsert = db.prepare(
    `insert into product_sales (product_id, units, orders) values (?, ?, 1)
     on conflict (product_id) do update set units = units + excluded.units, orders = orders + 1`,
  );
  const page = journal
    .prepare("select seq, envelope from flotilla_events where type = ? and seq > ? order by seq limit ?")
    .raw();
  const apply = db.transaction((rows: [number, string][]) => {
    for (const [, envelope] of rows) {
      const { data } = JSON.parse(envelope) as { data: { items: { productId: string; quantity: number }[] } };
      const units = new Map<string, number>();
      for (const item of data.items) units.set(item.productId, (units.get(item.productId) ?? 0) + item.quantity);
      for (const [productId, quantity] of units) upsert.run(productId, quantity);
    }
  });
  let after = 0;
  let events = 0;
  for (;;) {
    const rows = page.all(TYPE, after, batch) as [number, string][];
    if (rows.length === 0) break;
    apply.immediate(rows);
    events += rows.length;
    after = (rows.at(-1) as [number, string])[0];
  }
  db.close();
  journal.close();
  return events;
}

async function rebuild(batchSize: number | undefined): Promise<number> {
  const log = quiet();
  const owner: ResourceOwner = {
    service: "catalog",
    instance: "catalog-bench",
    log,
    transport: { name: "none", send: () => Promise.reject(new Error("no publishing in a replay")) },
  };
  const handle = await databaseProvider(sqliteDialect({ dataDir }), { relay: false }).open(
    catalogService.database as never,
    owner,
  );
  const journal = openEventJournal(eventJournalFile(dataDir));
  try {
    const result = await rebuildProjection({
      db: handle.value as Kysely<unknown>,
      service: catalogService,
      projection: "sales",
      history: async (types) => journal.history(types),
      log,
      ...(batchSize === undefined ? {} : { batchSize }),
    });
    return result.read;
  } finally {
    await handle.close();
    journal.close();
  }
}
