/** The database identities instances compare: equal exactly for one database, and never a secret. */
import { hostname } from "node:os";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import shopApp from "../../../examples/shop/src/app.js";
import { databaseClaims } from "../src/database-identity.js";

const services = shopApp.services.filter((s) => ["catalog", "orders"].includes(s.name));

describe("database identities", () => {
  it("names a SQLite file by host and absolute path", () => {
    expect(databaseClaims(services, { dataDir: "data/x", env: {} })).toEqual([
      { service: "catalog", database: `sqlite:${hostname()}:${resolve("data/x/catalog.sqlite")}` },
      { service: "orders", database: `sqlite:${hostname()}:${resolve("data/x/orders.sqlite")}` },
    ]);
    const [memory] = databaseClaims(services, { dataDir: ":memory:", env: {} });
    expect(memory?.database).toBe(`sqlite::memory:@${hostname()}/${process.pid}`);
  });

  it("names PostgreSQL by host, port, database and schema, without credentials or other parameters", () => {
    const env = {
      FLOTILLA_DB: "postgresql://app:s3cret@DB.internal/{service}?sslmode=require&pool_size=4",
      FLOTILLA_DB_ORDERS: "postgres://admin:pw@db.internal:6432/shop?isolation=schema",
    };
    expect(databaseClaims(services, { dataDir: "unused", env })).toEqual([
      { service: "catalog", database: "postgres://db.internal:5432/catalog" },
      { service: "orders", database: "postgres://db.internal:6432/shop?schema=orders" },
    ]);
  });

  it("claims nothing for a service without a database", () => {
    const [catalog, orders] = services as [(typeof services)[number], (typeof services)[number]];
    const claims = databaseClaims([{ ...catalog, database: undefined }, orders], { dataDir: "x", env: {} });
    expect(claims.map((c) => c.service)).toEqual(["orders"]);
  });
});
