/** @module PostgreSQL via pg: a database per service, or a schema and a role per service on a shared database. */
import { FlotillaCodes, FlotillaError, type ResourceOwner } from "@flotilla/core";
import { type DialectAdapter, type Kysely, PostgresAdapter, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { DatabaseDialect } from "./dialect.js";
import { derivedPassword, ensureDatabase, provisionRoleAndSchema } from "./postgres-provisioning.js";

export type PostgresIsolation = "database" | "schema";

export interface PostgresOptions {
  /**
   * `isolation: "database"`: the service's own database; `{service}` in the URL is replaced by the
   * service's name, and without it the URL serves one service only. `isolation: "schema"`: an admin URL
   * of a shared database, used only to provision each service's role and schema, or a URL logging in
   * as the service's own (already provisioned) role `flotilla_<service>`. The query parameters
   * `isolation` and `pool_size` are read here; pg's own (`sslmode`, `statement_timeout`, …) pass through.
   */
  url: string;
  /** Default "database", or the URL's `?isolation=`. */
  isolation?: PostgresIsolation;
  /** Connections per service instance (default 10, or the URL's `?pool_size=`). */
  poolSize?: number;
  /** Server-side limit per statement, default 30 000 ms (0: none). Migrations run without it. */
  statementTimeoutMs?: number;
  /** The server ends a session left idle inside a transaction this long, default 60 000 ms. */
  idleInTransactionTimeoutMs?: number;
  /** An unused pooled connection closes after this long, default 30 000 ms. */
  idleTimeoutMs?: number;
  /** Giving up on connecting, default 10 000 ms. */
  connectTimeoutMs?: number;
  /**
   * Schema isolation: the password of role `flotilla_<service>`. Default: derived (HMAC-SHA-256) from
   * the admin URL's password, so every instance computes the same one; no password without one.
   */
  rolePassword?: (role: string) => string | undefined;
}

export interface PostgresDatabaseDialect extends DatabaseDialect {
  readonly isolation: PostgresIsolation;
}

/** A service's PostgreSQL names: its schema or database (`order-history` → `order_history`) and role. */
export function postgresNames(service: string): { role: string; schema: string } {
  // Hyphens are the only non-identifier character service names may hold, and underscores are not
  // allowed in them, so the mapping cannot make two services collide.
  const schema = service.replaceAll("-", "_");
  if (!/^[a-z][a-z0-9-]{0,53}$/.test(service) || schema.startsWith("pg_") || schema === "public") {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `service name "${service}" cannot name a PostgreSQL schema or role`);
  }
  return { role: `flotilla_${schema}`, schema };
}

const LOCK_NAMESPACE = 0x466c6f74; // "Flot": keeps these advisory locks apart from the application's own

export function postgresDialect(options: PostgresOptions): PostgresDatabaseDialect {
  const url = parseUrl(options.url);
  const isolation = isolationOf(options.isolation ?? url.searchParams.get("isolation"));
  const poolSize = options.poolSize ?? Number(url.searchParams.get("pool_size") ?? 10);
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `database pool size must be a positive integer, got ${poolSize}`);
  }
  url.searchParams.delete("isolation");
  url.searchParams.delete("pool_size");
  const templated = url.pathname.includes("%7Bservice%7D");
  let claimedBy: string | undefined;
  // Each open instance's pool, so `listen` can take a connection from it.
  const pools = new Map<string, pg.Pool>();

  function poolFor(connectionString: string, owner: ResourceOwner, extra: pg.PoolConfig = {}): pg.Pool {
    const types = new pg.TypeOverrides();
    // int8 (bigint, count(*)) as numbers, as SQLite returns them, instead of pg's strings.
    types.setTypeParser(pg.types.builtins.INT8, Number);
    const pool = new pg.Pool({
      connectionString,
      max: poolSize,
      idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
      idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 60_000,
      application_name: `${owner.service}/${owner.instance}`.slice(0, 63),
      keepAlive: true,
      types,
      ...extra,
    });
    // Without a listener, an idle connection the server drops would crash the process.
    pool.on("error", (err) => owner.log.warn({ err }, "an idle database connection failed"));
    pools.set(owner.instance, pool);
    return pool;
  }

  return {
    name: "postgres",
    isolation,
    migrationTableSchema: (owner) => (isolation === "schema" ? postgresNames(owner.service).schema : undefined),
    async listen(owner, channel, onNotify) {
      const pool = pools.get(owner.instance);
      if (pool === undefined) throw new Error(`${owner.instance} has no open database to listen on`);
      pools.delete(owner.instance);
      return listenOn(pool, channel, onNotify, owner);
    },
    open(owner) {
      const names = postgresNames(owner.service);
      if (isolation === "schema") {
        const searchPath = { options: `-c search_path=${names.schema}` };
        // Logged in as the service's own role already (provisioned beforehand): no admin, nothing to set up.
        if (decodeURIComponent(url.username) === names.role) {
          return new FlotillaPostgresDialect(async () => poolFor(url.href, owner, searchPath));
        }
        const password = (options.rolePassword ?? defaultPassword(url))(names.role);
        const serviceUrl = new URL(url);
        serviceUrl.username = names.role;
        serviceUrl.password = password ?? "";
        return new FlotillaPostgresDialect(async () => {
          await provisionRoleAndSchema(url.href, names, password);
          return poolFor(serviceUrl.href, owner, searchPath);
        });
      }
      if (!templated) claim(owner.service);
      const serviceUrl = url.href.replaceAll("%7Bservice%7D", names.schema);
      return new FlotillaPostgresDialect(async () => {
        await ensureDatabase(serviceUrl);
        return poolFor(serviceUrl, owner);
      });
    },
  };

  function claim(service: string): void {
    if (claimedBy !== undefined && claimedBy !== service) {
      throw FlotillaError.of(
        FlotillaCodes.CONFIG,
        `${service}: ${redacted(url)} is ${claimedBy}'s database; give ${service} its own ` +
          "(FLOTILLA_DB_<SERVICE>, {service} in the URL, or ?isolation=schema)",
      );
    }
    claimedBy = service;
  }
}

/**
 * Holds one pooled connection for LISTEN, reconnecting after a failure (a second later, then every few
 * seconds): notifications are only a shortcut, so a gap costs latency, never events.
 */
async function listenOn(
  pool: pg.Pool,
  channel: string,
  onNotify: () => void,
  owner: ResourceOwner,
): Promise<() => Promise<void>> {
  /** Gives the listening connection up (destroyed, never back to the pool); undefined while none listens. */
  let dropCurrent: (() => void) | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    let next: pg.PoolClient;
    try {
      next = await pool.connect();
    } catch (err) {
      owner.log.warn({ err }, "cannot LISTEN for outbox notifications; relying on polling meanwhile");
      schedule(5_000);
      return;
    }
    // pg may report one failure more than once (an error message, then the socket's end), and close()
    // may race a failure: the connection is released exactly once, whoever gets there first.
    let released = false;
    const drop = (err?: Error): void => {
      if (released) return;
      released = true;
      if (dropCurrent === dropThis) dropCurrent = undefined;
      next.release(err ?? true);
    };
    const dropThis = () => drop();
    next.on("notification", onNotify);
    next.on("error", (err) => {
      if (released) return;
      owner.log.warn({ err }, "the LISTEN connection failed; reconnecting");
      drop(err);
      schedule(1_000);
    });
    try {
      await next.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
    } catch (err) {
      if (released) return; // the error event came first and has scheduled the reconnect
      owner.log.warn({ err }, "cannot LISTEN for outbox notifications; relying on polling meanwhile");
      drop(err as Error);
      schedule(5_000);
      return;
    }
    if (closed || released) return drop();
    dropCurrent = dropThis;
    onNotify(); // whatever was committed while no one listened
  };
  const schedule = (ms: number) => {
    if (closed) return;
    clearTimeout(retry);
    retry = setTimeout(() => void connect(), ms);
    retry.unref();
  };
  await connect();
  return async () => {
    closed = true;
    clearTimeout(retry);
    dropCurrent?.();
  };
}

function parseUrl(text: string): URL {
  try {
    const url = new URL(text);
    if (url.protocol === "postgres:" || url.protocol === "postgresql:") return url;
  } catch {
    // reported below
  }
  throw FlotillaError.of(FlotillaCodes.CONFIG, `"${text.replace(/:[^:@/]*@/, ":***@")}" is not a postgres:// URL`);
}

function isolationOf(value: string | null): PostgresIsolation {
  if (value === null || value === "database" || value === "schema") return value ?? "database";
  throw FlotillaError.of(FlotillaCodes.CONFIG, `database isolation must be "database" or "schema", got "${value}"`);
}

function defaultPassword(url: URL): (role: string) => string | undefined {
  const secret = decodeURIComponent(url.password);
  return (role) => (secret === "" ? undefined : derivedPassword(secret, role));
}

function redacted(url: URL): string {
  const copy = new URL(url);
  if (copy.password !== "") copy.password = "***";
  return copy.href;
}

/** Kysely's PostgreSQL dialect, with its migration lock replaced (see the adapter below). */
class FlotillaPostgresDialect extends PostgresDialect {
  constructor(pool: () => Promise<pg.Pool>) {
    super({ pool });
  }

  override createAdapter(): DialectAdapter {
    return new SchemaLockPostgresAdapter();
  }
}

/**
 * Kysely takes one advisory lock per database; this takes one per schema, so services sharing a
 * database migrate in parallel while instances of one service queue. Migrations run with no statement
 * timeout: an index build may take longer, and the instances waiting on the lock must outwait it.
 */
class SchemaLockPostgresAdapter extends PostgresAdapter {
  override async acquireMigrationLock(db: Kysely<unknown>): Promise<void> {
    await sql`set statement_timeout = 0`.execute(db);
    await sql`select pg_advisory_lock(${sql.lit(LOCK_NAMESPACE)}, hashtext(coalesce(current_schema(), '')))`.execute(
      db,
    );
  }

  override async releaseMigrationLock(db: Kysely<unknown>): Promise<void> {
    await sql`select pg_advisory_unlock(${sql.lit(LOCK_NAMESPACE)}, hashtext(coalesce(current_schema(), '')))`.execute(
      db,
    );
    await sql`reset statement_timeout`.execute(db);
  }
}
