/** @module `flotilla replay <service>.<projection>`: rebuilds a projection from the event history, beside the running app. */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FlotillaApp } from "@flotilla/app";
// Not the package's main entry: an operator's command need not load the gateway and telemetry.
import { openAppEvents } from "@flotilla/app/events";
import {
  createLogger,
  type EventHistory,
  FlotillaCodes,
  FlotillaError,
  type ResourceHandle,
  type ResourceOwner,
  type ServiceDefinition,
} from "@flotilla/core";
import { databaseEnvVar, databaseProviderFromEnv, type Kysely, rebuildProjection } from "@flotilla/data";
import { dataDirFrom, sqliteDialect } from "@flotilla/data/internal";
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
  const sqlite = isSqlite(service.name);
  if (sqlite) checkDatabaseExists(service.name, dataDir);

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
    const provider = databaseProviderFromEnv({ fallback: sqliteDialect({ dataDir }), provider: { relay: false } });
    handle = await provider.open(spec, owner);
    process.stderr.write(`rebuilding ${target} from ${events.where}; live events are parked until it is done\n`);
    begun = true;
    progress.restart();
    const result = await rebuildProjection({
      db: handle.value as Kysely<unknown>,
      service,
      projection,
      history: async (types) => {
        const history = await events.history(types);
        return sqlite ? paced(history, batchSize) : history;
      },
      log,
      onProgress: (state) => progress.update(state),
      batchSize,
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
  const found = service.projections.some((p) => p.name === projection);
  if (!found || !service.subscriptions.some((s) => s.projection === projection)) {
    const known = service.projections.map((p) => p.name).join(", ") || "none";
    throw new FlotillaError("NOT_FOUND", `${service.name} has no projection "${projection}" (it has: ${known})`);
  }
  return service;
}

/** Whether the service's database is a SQLite file: no FLOTILLA_DB_<SERVICE> or FLOTILLA_DB, or a `sqlite:` one. */
function isSqlite(service: string): boolean {
  const url = process.env[databaseEnvVar(service)] || process.env.FLOTILLA_DB;
  return url === undefined || url.startsWith("sqlite:");
}

/**
 * The service's SQLite file in the data directory must be there: a wrong --data-dir would otherwise
 * create an empty database and rebuild the projection in it.
 */
function checkDatabaseExists(service: string, dataDir: string): void {
  if (process.env[databaseEnvVar(service)] || process.env.FLOTILLA_DB) return;
  const file = join(resolve(dataDir), `${service}.sqlite`);
  if (!existsSync(file)) {
    throw new FlotillaError(
      "NOT_FOUND",
      `no database for ${service} at ${file}: pass the --data-dir the app runs with, or set ${databaseEnvVar(service)}`,
      { details: { file } },
    );
  }
}

/**
 * SQLite has one writer at a time. While a batch's transaction runs, the running app's writes to the
 * same file wait, and better-sqlite3 waits synchronously: its whole event loop stalls. SQLite retries
 * a waiting write every 20 to 100 ms (longer the longer it waited), so back-to-back batches would
 * starve the app until the replay ends. A pause after each batch, as long as such a retry interval,
 * lets its writes in.
 */
function paced(history: EventHistory, batchSize: number): EventHistory {
  return {
    total: history.total,
    async *[Symbol.asyncIterator]() {
      let read = 0;
      let since = performance.now();
      for await (const event of history) {
        // The previous batch is committed once the rebuild asks for the first event of the next one.
        if (read > 0 && read % batchSize === 0) {
          const held = performance.now() - since;
          const pauseMs = held < 50 ? 25 : held < 125 ? 30 : held < 225 ? 55 : 105;
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
          since = performance.now();
        }
        read++;
        yield event;
      }
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
