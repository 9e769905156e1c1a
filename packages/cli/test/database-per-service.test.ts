/**
 * One service, one database, over a real nats-server with real `flotilla start` processes: a second
 * catalog instance on another SQLite file refuses to start and says how to share one; instances on one
 * SQLite file of one host, or on one PostgreSQL database, run side by side; once the differing instance
 * is gone (stopped, or SIGKILLed), a differently configured one may start.
 */
import { type PostgresHandle, startPostgres } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, type FlotillaProcess, type StartOptions } from "./split-helpers.js";

describe("one service, one database", () => {
  let cluster: Cluster;
  let postgres: PostgresHandle | undefined;

  beforeAll(async () => {
    cluster = new Cluster();
    [, postgres] = await Promise.all([cluster.startNats(), startPostgres()]);
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
    await postgres?.stop();
  });

  /** Starts a process that must refuse; its exit code and output. */
  async function refused(name: string, opts: StartOptions): Promise<{ code: number | null; output: string }> {
    await expect(cluster.start(name, opts)).rejects.toThrow(/exited before it ran/);
    const proc = cluster.processes.at(-1) as FlotillaProcess;
    const { code } = await proc.closed;
    return { code, output: proc.output() };
  }

  it("refuses a second catalog on another SQLite file, with how to share one", { timeout: 60_000 }, async () => {
    const first = await cluster.start("catalog-1", { services: "catalog" });
    const second = await refused("catalog-2", { services: "catalog" });
    expect(second.code).toBe(1);
    expect(second.output).toContain("[FLOTILLA_DATABASE_MISMATCH]");
    expect(second.output).toContain(`uses sqlite:`);
    expect(second.output).toContain(`${first.dataDir}/catalog.sqlite`);
    expect(second.output).toContain("set FLOTILLA_DB_CATALOG (or FLOTILLA_DB) to the same postgres:// URL");
    // The first instance is untouched, and one on its own file (same host) joins it.
    const sameFile = await cluster.start("catalog-3", { services: "catalog", dataDir: first.dataDir });
    expect(first.exitedAt()).toBeUndefined();
    // A process of several services refuses as a whole when one of them differs.
    const mixed = await refused("browse", { services: "catalog,reviews" });
    expect(mixed.output).toMatch(/catalog: this instance would use sqlite:.* but its instance pid \d+/);
    // Gone the first two (one stopped, one killed), another database may be used.
    await cluster.signal(first, "SIGTERM");
    await cluster.signal(sameFile, "SIGKILL");
    const next = await cluster.start("catalog-4", { services: "catalog" });
    expect(next.exitedAt()).toBeUndefined();
    await cluster.signal(next, "SIGTERM");
  });

  it("runs two instances on one PostgreSQL database", { timeout: 60_000 }, async () => {
    if (postgres === undefined) throw new Error("no PostgreSQL");
    const env = { FLOTILLA_DB: postgres.url.replace(/\/postgres$/, "/{service}") };
    const [a, b] = await Promise.all([
      cluster.start("orders-a", { services: "orders", env }),
      cluster.start("orders-b", { services: "orders", env }),
    ]);
    expect([a.exitedAt(), b.exitedAt()]).toEqual([undefined, undefined]);
    // The same server under another database name is another database.
    const other = await refused("orders-c", { services: "orders", env: { FLOTILLA_DB: postgres.url } });
    expect(other.output).toMatch(
      /orders: this instance would use postgres:\/\/[^ ]+\/postgres, .* uses postgres:\/\/[^ ]+\/orders/,
    );
    // Identities carry no credentials.
    expect(other.output).not.toContain(`${postgres.user}@`);
  });
});
