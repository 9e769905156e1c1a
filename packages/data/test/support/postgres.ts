/** @module One throwaway PostgreSQL server per test file, and an admin connection to look inside it. */
import { type PostgresHandle, startPostgres } from "@flotilla/testing";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";

export interface TestPostgres {
  readonly server: PostgresHandle;
  /** Runs SQL as the superuser on the `postgres` database. */
  query<T = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  /** Connections this process holds for `service` (pools set application_name to `service/instance`). */
  openConnections(service: string): Promise<number>;
}

export function usePostgres(): TestPostgres {
  let server: PostgresHandle | undefined;
  let admin: pg.Client | undefined;
  beforeAll(async () => {
    const started = performance.now();
    server = await startPostgres();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    if (process.env.FLOTILLA_TIMINGS) console.log(`postgres up in ${Math.round(performance.now() - started)} ms`);
  });
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });
  const query = async <T>(text: string, values: unknown[] = []) => (await admin!.query(text, values)).rows as T[];
  return {
    get server() {
      if (server === undefined) throw new Error("usePostgres: the server starts in beforeAll");
      return server;
    },
    query,
    async openConnections(service) {
      const rows = await query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where application_name like $1",
        [`${service}/%`],
      );
      return rows[0]?.n ?? 0;
    },
  };
}
