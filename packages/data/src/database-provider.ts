/** @module The "database" resource provider: opens each service's own database, migrates it, closes it. */
import {
  FlotillaCodes,
  FlotillaError,
  type Middleware,
  type ResourceHandle,
  type ResourceOwner,
  type ResourceProvider,
  type ResourceSpec,
} from "@flotilla/core";
import type { Tracer } from "@opentelemetry/api";
import { type Kysely, sql } from "kysely";
import { isDatabaseSpec } from "./database.js";
import type { DatabaseDialect } from "./dialects/dialect.js";
import { type PostgresOptions, postgresDialect } from "./dialects/postgres-dialect.js";
import { type DialectSpec, resolveDialect } from "./dialects/resolve-dialect.js";
import { type SqliteOptions, sqliteDialect } from "./dialects/sqlite-dialect.js";
import { type IdempotencyCount, IdempotencyKeys, type IdempotencyOptions } from "./idempotency/idempotency-keys.js";
import { inboxMiddleware } from "./inbox-middleware.js";
import { migrateToLatest } from "./migrate.js";
import { OutboxRelay, type RelayOptions } from "./outbox/outbox-relay.js";
import { outboxSink } from "./outbox/outbox-sink.js";
import { OpenRelays, type ServiceOutboxBacklog } from "./outbox/relays.js";
import { ServiceDatabase } from "./service-database.js";
import {
  SYSTEM_MIGRATION_LOCK_TABLE,
  SYSTEM_MIGRATION_TABLE,
  type SystemTables,
  systemMigrations,
} from "./system-tables.js";
import { transactionSpans } from "./transaction-spans.js";

/**
 * A provider for `createHost({ resources: [...] })`, from a URL (`sqlite:.flotilla/data`,
 * `postgres://…`) or a dialect.
 * Each service gets its own database, migrated before the service starts; `ctx.db` is that database only.
 */
export function databaseProvider(spec: DialectSpec, options: DatabaseProviderOptions = {}): DatabaseProvider {
  const dialect = resolveDialect(spec);
  const relays = new OpenRelays();
  const keys = new IdempotencyKeys(options.idempotency);
  return {
    kind: "database",
    open: (resource, owner) => openDatabase(dialect, resource, owner, options, relays, keys),
    backlogs: () => relays.backlogs(),
    sweepIdempotencyKeys: (now) => keys.sweep(now),
    idempotencyOutcomes: () => keys.outcomes(),
  };
}

/** Opens service databases, and knows the outbox backlog of those it has open (for metrics). */
export interface DatabaseProvider extends ResourceProvider {
  /** Each open service database's outbox backlog: committed messages the broker has not confirmed yet. */
  backlogs(): Promise<ServiceOutboxBacklog[]>;
  /** Deletes the idempotency keys expired at `now` in every open service database; resolves to how many. */
  sweepIdempotencyKeys(now?: number): Promise<number>;
  /** Requests with an idempotency key so far, by service and outcome (`stored`, `replayed`, …). */
  idempotencyOutcomes(): IdempotencyCount[];
}

export interface DatabaseProviderOptions {
  /**
   * The outbox relay's timing (poll interval, batch size, lease), or false for none: tools that open a
   * service's database beside the running service (a projection rebuild) leave relaying to it.
   */
  relay?: RelayOptions | false;
  /** How long idempotency keys are kept, and how often expired ones are swept. */
  idempotency?: IdempotencyOptions;
}

/** One SQLite file per service, `<dataDir>/<service>.sqlite`, or private in-memory databases. */
export function sqliteDatabases(options: SqliteOptions = {}): DatabaseProvider {
  return databaseProvider(sqliteDialect(options));
}

/** PostgreSQL: a database per service, or a schema and role per service on a shared database. */
export function postgresDatabases(options: PostgresOptions): DatabaseProvider {
  return databaseProvider(postgresDialect(options));
}

async function openDatabase(
  dialect: DatabaseDialect,
  spec: ResourceSpec,
  owner: ResourceOwner,
  options: DatabaseProviderOptions,
  relays: OpenRelays,
  keys: IdempotencyKeys,
): Promise<ResourceHandle> {
  if (!isDatabaseSpec(spec)) {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      `${owner.service}: declare its database with database({ migrations })`,
    );
  }
  const db = new ServiceDatabase<SystemTables>({ dialect: dialect.open(owner) });
  const relay = options.relay === false ? undefined : new OutboxRelay(db, owner, options.relay);
  let unlisten: (() => Promise<void>) | undefined;
  let stopSweeping: (() => Promise<void>) | undefined;
  const close = async () => {
    await stopSweeping?.();
    await relay?.stop();
    await unlisten?.();
    await db.destroy();
  };
  try {
    await connect(db, dialect, owner);
    const schema = dialect.migrationTableSchema?.(owner);
    await migrateToLatest(db as unknown as Kysely<unknown>, systemMigrations(dialect.name), owner, {
      schema,
      table: SYSTEM_MIGRATION_TABLE,
      lockTable: SYSTEM_MIGRATION_LOCK_TABLE,
    });
    await migrateToLatest(db as unknown as Kysely<unknown>, spec.migrations, owner, { schema });
    const channel = dialect.listen === undefined ? undefined : outboxChannel(owner.service);
    const wake = relay?.wake ?? (() => {});
    if (channel !== undefined && relay !== undefined) unlisten = await dialect.listen?.(owner, channel, wake);
    relay?.start();
    const untrack = relay === undefined ? () => false : relays.add(owner, relay);
    const spans =
      owner.tracer === undefined
        ? undefined
        : { tracer: owner.tracer, attributes: spanAttributes(owner, dialect.name) };
    const idempotency = keys.open(db, owner, spans);
    stopSweeping = idempotency.stop;
    return {
      value: db,
      sink: outboxSink(db, {
        wake,
        ...(relay === undefined ? {} : { wakeAt: relay.wakeAt }),
        ...(channel === undefined ? {} : { notifyChannel: channel }),
        relaysHere: () => relay?.holdsLease ?? false,
      }),
      middleware: [...tracedMiddleware(db, spans), idempotency.middleware],
      close: () => {
        untrack();
        return close();
      },
    };
  } catch (err) {
    await close().catch((closeErr: unknown) => owner.log.warn({ err: closeErr }, "database failed to close"));
    throw err;
  }
}

/**
 * The inbox, and with a tracer a span per transaction: the transaction-spans middleware first, so the
 * inbox's own transaction (and the idempotency keys', listed after these) and those the handler opens
 * are each a span of the handler's.
 */
function tracedMiddleware(
  db: ServiceDatabase<SystemTables>,
  spans: { tracer: Tracer; attributes: Record<string, string> } | undefined,
): Middleware[] {
  if (spans === undefined) return [inboxMiddleware(db)];
  return [
    transactionSpans(db as unknown as ServiceDatabase<never>, spans.tracer, spans.attributes),
    inboxMiddleware(db, spans),
  ];
}

function spanAttributes(owner: ResourceOwner, system: string): Record<string, string> {
  return {
    "db.system.name": system,
    "db.namespace": owner.service,
    "db.operation.name": "transaction",
    "flotilla.service": owner.service,
  };
}

/** One channel per service: services sharing a PostgreSQL database do not wake each other's relays. */
function outboxChannel(service: string): string {
  return `flotilla_outbox_${service.replaceAll("-", "_")}`;
}

/** Opens the connection before migrating, so "cannot reach the database" is not reported as a bad migration. */
async function connect(db: Kysely<SystemTables>, dialect: DatabaseDialect, owner: ResourceOwner): Promise<void> {
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    if (err instanceof FlotillaError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new FlotillaError("UNAVAILABLE", `${owner.service}: cannot open its ${dialect.name} database: ${reason}`, {
      cause: err,
    });
  }
}
