/** @module `flotilla replay <service>.<projection>`: rebuilds a projection from the event history, beside the running app. */
import { existsSync } from "node:fs";
import type { FlotillaApp } from "@flotilla/app";
// Not the package's main entry: an operator's command need not load the gateway and telemetry.
import { openAppEvents } from "@flotilla/app/events";
import {
  createLogger,
  FlotillaCodes,
  FlotillaError,
  type ResourceHandle,
  type ResourceOwner,
  type ServiceDefinition,
} from "@flotilla/core";
import {
  type DatabaseChoice,
  databaseEnvVar,
  databaseFromEnv,
  databaseProvider,
  type Kysely,
  projectionOf,
  rebuildProjection,
  sql,
} from "@flotilla/data";
import { dataDirFrom, MEMORY, sqliteDialect } from "@flotilla/data/internal";
import { loadApp } from "../load-app.js";
import { COMMON_OPTIONS, parseOptions, positiveIntOption, transportOption, UsageError } from "../options.js";
import { eventsPerSecond, formatCount, Progress } from "../progress.js";
import { REPLAY_USAGE } from "../usage.js";

export async function replay(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, { ...COMMON_OPTIONS, batch: { type: "string" } });
  if (values.help) {
    process.stdout.write(REPLAY_USAGE);
    return;
  }
  const [target, ...extra] = positionals;
  if (target === undefined) throw new UsageError("replay needs the projection: SERVICE.PROJECTION");
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const dot = target.indexOf(".");
  if (dot <= 0 || dot === target.length - 1) {
    throw new UsageError(`"${target}" is not SERVICE.PROJECTION (e.g. catalog.sales)`);
  }
  const [serviceName, projection] = [target.slice(0, dot), target.slice(dot + 1)];
  const batchSize = positiveIntOption(values.batch ?? "500", "--batch");
  const dataDir = dataDirFrom(values["data-dir"]);

  const app = await loadApp(values.app);
  const service = findProjection(app, serviceName, projection);
  const spec = service.database;
  if (spec === undefined) throw FlotillaError.of(FlotillaCodes.CONFIG, `${service.name} declares no database`);
  // The same choice the app made when it started (FLOTILLA_DB_<SERVICE>, FLOTILLA_DB, else SQLite files).
  const choice = databaseFromEnv(service.name, { fallback: sqliteDialect({ dataDir }) });
  checkDatabaseExists(service.name, choice);

  const log = createLogger({
    level: process.env.FLOTILLA_LOG_LEVEL ?? "warn",
    name: "flotilla-replay",
    stream: "stderr",
  });
  const owner: ResourceOwner = {
    service: service.name,
    instance: `${service.name}-replay-${process.pid}`,
    log: log.child({ service: service.name }),
    transport: {
      name: "none",
      send: () =>
        Promise.reject(FlotillaError.of(FlotillaCodes.CONFIG, "a replay publishes nothing: projections cannot emit")),
    },
  };
  const events = await openAppEvents(transportOption(values.transport), dataDir);
  let handle: ResourceHandle | undefined;
  const progress = new Progress(process.stderr, target);
  const interrupted = onInterrupt(progress, target);
  let begun = false;
  try {
    // Without an outbox relay: the running app relays its own outbox.
    handle = await databaseProvider(choice.dialect, { relay: false }).open(spec, owner);
    const db = handle.value as Kysely<unknown>;
    const pacing = choice.sqliteFile === undefined ? undefined : await sqlitePacing(db);
    process.stderr.write(`rebuilding ${target} from ${events.where}; live events are parked until it is done\n`);
    begun = true;
    progress.restart();
    const result = await rebuildProjection({
      db,
      service,
      projection,
      history: (types) => events.history(types),
      log,
      onProgress: (state) => progress.update(state),
      batchSize,
      ...pacing,
    });
    progress.finish(result);
    const rate = eventsPerSecond(result.read, result.seconds);
    console.log(
      `rebuilt ${target}: ${formatCount(result.read)} ${result.read === 1 ? "event" : "events"} read, ${formatCount(result.applied)} applied, ` +
        `${formatCount(result.parked)} parked, in ${result.seconds.toFixed(1)} s (${formatCount(rate)} events/s)`,
    );
  } catch (err) {
    progress.end();
    if (begun)
      process.stderr.write(`${target} did not finish: it parks live events until a replay does; run it again\n`);
    throw err;
  } finally {
    interrupted.dispose();
    try {
      await handle?.close();
    } finally {
      await events.close();
    }
  }
}

/** The service named, holding the projection named; NOT_FOUND listing what the app has otherwise. */
function findProjection(app: FlotillaApp, serviceName: string, projection: string): ServiceDefinition {
  const service = app.services.find((s) => s.name === serviceName);
  if (service === undefined) {
    const withProjections = app.services.flatMap((s) => s.projections.map((p) => `${s.name}.${p.name}`));
    throw new FlotillaError(
      "NOT_FOUND",
      `${app.name} has no service "${serviceName}" (its projections: ${withProjections.join(", ") || "none"})`,
    );
  }
  projectionOf(service, projection);
  return service;
}

/**
 * A SQLite file must be there: a wrong --data-dir (or FLOTILLA_DB… URL) would otherwise create an
 * empty database and rebuild the projection in it.
 */
function checkDatabaseExists(service: string, choice: DatabaseChoice): void {
  const file = choice.sqliteFile;
  if (file === undefined || file === MEMORY || existsSync(file)) return;
  const remedy =
    choice.variable === undefined
      ? `pass the --data-dir the app runs with, or set ${databaseEnvVar(service)}`
      : `check ${choice.variable}`;
  throw new FlotillaError("NOT_FOUND", `no database for ${service} at ${file}: ${remedy}`, { details: { file } });
}

/**
 * SQLite has one writer at a time. While the rebuild's transactions run, the running app's writes to
 * the same file wait, and better-sqlite3 waits synchronously: its whole event loop stalls. A waiting
 * writer retries after 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 ms, then every 100 ms, so back-to-back
 * transactions would starve the app until the replay ends. So the rebuild holds the lock for a while
 * (its transactions back to back), then pauses as long as such a retry interval, which lets the
 * writes in.
 *
 * How long it holds the lock depends on whether anyone else wrote: `pragma data_version` changes when
 * another connection committed, which a waiting writer does during a pause. While the app writes, the
 * rebuild holds the lock 50 ms at a time (two thirds of the time); while it does not, twice as long
 * after each quiet pause, up to 1 s (nine tenths of the time), and back to 50 ms as soon as a write
 * came in. A write arriving after a quiet spell waits at most about 1.1 s.
 */
async function sqlitePacing(db: Kysely<unknown>): Promise<{
  transactionMs: () => number;
  afterTransaction: (transaction: { heldMs: number }) => Promise<void>;
}> {
  const BUSY_HOLD_MS = 50;
  const MAX_HOLD_MS = 1_000;
  const dataVersion = async () => (await sql<{ data_version: number }>`pragma data_version`.execute(db)).rows[0];
  let version = (await dataVersion())?.data_version;
  let holdMs = BUSY_HOLD_MS;
  let held = 0;
  return {
    transactionMs: () => Math.max(1, holdMs - held),
    async afterTransaction({ heldMs }) {
      held += heldMs;
      if (held < holdMs) return;
      // A writer that began waiting when the lock was taken retries within this pause.
      const pauseMs = held < 50 ? 25 : held < 125 ? 30 : held < 225 ? 55 : 105;
      held = 0;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      const now = (await dataVersion())?.data_version;
      holdMs = now === version ? Math.min(holdMs * 2, MAX_HOLD_MS) : BUSY_HOLD_MS;
      version = now;
    },
  };
}

/** Ctrl-C or SIGTERM mid-replay: say how to finish, exit at once (the rebuild is made to survive that). */
function onInterrupt(progress: Progress, target: string): { dispose(): void } {
  const handler = (signal: NodeJS.Signals) => {
    progress.end();
    process.stderr.write(`${target} interrupted: it stays rebuilding (parking live events); run the replay again\n`);
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return {
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
