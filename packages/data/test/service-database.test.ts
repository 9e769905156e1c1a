/** ServiceDatabase's unit of work: which transaction is current, while transactions are pending and after they end. */
import { describe, expect, it } from "vitest";
import { ServiceDatabase } from "../src/index.js";
import { MEMORY, sqliteDialect } from "../src/internal.js";

const owner = { service: "units", log: console } as never;

describe("ServiceDatabase units of work", () => {
  it("each transaction sees its own (SQLite queues the second behind the first); none is current outside or after them", async () => {
    const db = new ServiceDatabase({ dialect: sqliteDialect({ dataDir: MEMORY }).open(owner) });
    try {
      expect(db.current()).toBeUndefined();
      let releaseA!: () => void;
      const aWaits = new Promise<void>((resolve) => {
        releaseA = resolve;
      });
      const seen: string[] = [];
      const a = db.transaction().execute(async (trx) => {
        await aWaits;
        seen.push(db.current()?.trx === trx ? "a:own" : "a:other");
      });
      const b = db.transaction().execute(async (trx) => {
        seen.push(db.current()?.trx === trx ? "b:own" : "b:other");
        // Joining inside b stays in b.
        await db.transaction().execute(async (inner) => {
          seen.push(inner === trx ? "b:joined" : "b:separate");
        });
      });
      await new Promise((r) => setTimeout(r, 10));
      releaseA();
      await Promise.all([a, b]);
      expect(seen.sort()).toEqual(["a:own", "b:joined", "b:own"]);
      expect(db.current()).toBeUndefined();
      // The storage is enabled again by the next transaction.
      await db.transaction().execute(async (trx) => {
        await Promise.resolve();
        expect(db.current()?.trx).toBe(trx);
      });
      expect(db.current()).toBeUndefined();
    } finally {
      await db.destroy();
    }
  });
});
