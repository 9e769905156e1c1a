/**
 * @module The PostgreSQL server of an outbox benchmark run, with `pg_stat_statements` when the server
 * has it: statements per operation are counted by the server, so they do not move with the load of
 * the machine the way CPU times and rates do.
 */
import { type PostgresHandle, startPostgres } from "@flotilla/testing";
import pg from "pg";

export interface BenchPostgres {
  readonly handle: PostgresHandle;
  /** `postgres://user@host:port`, without a database. */
  readonly base: string;
  /** e.g. "PostgreSQL 15.14, fsync off, synchronous_commit off". */
  readonly description: string;
  /** Forgets the statements counted so far (false: the server has no pg_stat_statements). */
  resetStatements(): Promise<boolean>;
  /** Statements executed per database since the last reset, one-off ones (< `minCalls` calls) left out. */
  statements(minCalls: number): Promise<Record<string, number> | undefined>;
  stop(): Promise<void>;
}

/**
 * `durable`: PostgreSQL's own defaults (fsync, synchronous_commit and full_page_writes on), so every
 * commit waits for its WAL flush; otherwise the test helper's settings, with those three off.
 */
export async function startBenchPostgres(durable: boolean): Promise<BenchPostgres> {
  const settings: Record<string, string> = durable
    ? { fsync: "on", synchronous_commit: "on", full_page_writes: "on" }
    : {};
  let handle: PostgresHandle;
  let counting = true;
  try {
    handle = await startPostgres({
      settings: { ...settings, shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track": "all" },
    });
  } catch {
    counting = false; // no pg_stat_statements in this installation
    handle = await startPostgres({ settings });
  }
  const admin = new pg.Client({ connectionString: handle.url });
  await admin.connect();
  if (counting)
    counting = await admin.query("create extension if not exists pg_stat_statements").then(
      () => true,
      () => false,
    );
  const version = String((await admin.query("show server_version")).rows[0]?.server_version ?? "?");
  const mode = durable ? "fsync, synchronous_commit on (durable commits)" : "fsync, synchronous_commit off";
  return {
    handle,
    base: `postgres://${handle.user}@${handle.host}:${handle.port}`,
    description: `PostgreSQL ${version} (startPostgres: ${mode}${counting ? "; pg_stat_statements" : ""})`,
    async resetStatements() {
      if (counting) await admin.query("select pg_stat_statements_reset()");
      return counting;
    },
    async statements(minCalls) {
      if (!counting) return undefined;
      const result = await admin.query(
        `select d.datname as db, sum(s.calls)::bigint as calls from pg_stat_statements s
         join pg_database d on d.oid = s.dbid
         where s.calls >= $1 and s.query not like '%pg_stat_statements%'
         group by d.datname`,
        [Math.floor(minCalls)],
      );
      return Object.fromEntries(result.rows.map((r) => [String(r.db), Number(r.calls)]));
    },
    async stop() {
      await admin.end().catch(() => undefined);
      await handle.stop();
    },
  };
}
