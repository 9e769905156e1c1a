/**
 * @module The supervisor behind `flotilla up`: runs an app's deployment units as processes over NATS
 * (starting nats-server and PostgreSQL when none are given), keeps each unit's instances alive
 * (unit-runner.ts), balances the public gateway port over the gateway's instances, scales units on the
 * autoscaler's decisions or by hand, restarts them rolling, and reports it all (logs, metrics, events,
 * status). docs/supervisor.md.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { deploymentUnits, type ResolvedUnit, type ServedDashboard, serveDashboard } from "@flotilla/app";
import { createLogger, FlotillaCodes, FlotillaError } from "@flotilla/core";
import {
  Autoscaler,
  type ScaleDecision,
  type SignalSource,
  signalSource,
  type UnitSignals,
} from "./autoscale/index.js";
import { Balancer } from "./balancer.js";
import { Companion } from "./companion.js";
import { type ControlServer, startControlServer } from "./control-server.js";
import { SupervisorCodes } from "./errors.js";
import { EventPublisher } from "./event-publisher.js";
import { EventHub } from "./events.js";
import { instanceArgs } from "./instance-command.js";
import { type LocalServer, startLocalNats, startLocalPostgres } from "./local-servers.js";
import { SupervisorMetrics } from "./metrics.js";
import { resolvePgBinDir } from "./servers/index.js";
import type { Supervisor, SupervisorOptions } from "./supervisor-types.js";
import { UnitRunner } from "./unit-runner.js";

export type { Supervisor, SupervisorOptions, SupervisorStatus } from "./supervisor-types.js";

const TICK_MS = 1_000;
const DECISIONS_KEPT = 20;

/** A supervisor for `options.app`; nothing runs until start(). */
export function createSupervisor(options: SupervisorOptions): Supervisor {
  const log = options.log ?? createLogger({ name: "supervisor" });
  const dataDir = resolve(options.dataDir);
  const units = deploymentUnits(options.app, options.layout ?? "app");
  const hub = new EventHub();
  const runners = new Map<string, UnitRunner>();
  const metrics = new SupervisorMetrics({
    units: () =>
      [...runners.values()].map((r) => ({
        name: r.unit.name,
        desired: r.desired,
        states: r.live().map((i) => i.state),
      })),
  });
  const decisions: ScaleDecision[] = [];
  const signals = new Map<string, UnitSignals>();
  const companions: Companion[] = [];
  const servers: LocalServer[] = [];
  const timers: NodeJS.Timeout[] = [];
  let natsUrl = options.natsUrl;
  let database = "SQLite files under units/<unit>";
  let sqliteOnly = false;
  let balancer: Balancer | undefined;
  let gatewayUrl: string | undefined;
  let control: ControlServer | undefined;
  let dashboard: ServedDashboard | undefined;
  let publisher: EventPublisher | undefined;
  let source: SignalSource | undefined;
  let stopping = false;
  let startedAt = Date.now();

  hub.on("decision", (d) =>
    log.info(
      { unit: d.unit, from: d.from, to: d.to, signal: d.signal, reason: d.reason },
      `scale ${d.unit} ${d.from} → ${d.to}: ${d.reason}`,
    ),
  );

  const unitNamed = (unit: string): ResolvedUnit => {
    const found = units.find((u) => u.name === unit);
    if (found === undefined) {
      throw FlotillaError.of(
        SupervisorCodes.UNKNOWN_UNIT,
        `no unit "${unit}" (units: ${units.map((u) => u.name).join(", ")})`,
        { details: { unit } },
      );
    }
    return found;
  };
  const runner = (unit: string): UnitRunner => {
    const found = runners.get(unitNamed(unit).name);
    if (found === undefined) throw FlotillaError.of(FlotillaCodes.NOT_STARTED, `unit ${unit} is not running yet`);
    return found;
  };

  const checkCount = (unit: ResolvedUnit, n: number): void => {
    const { min, max } = unit.scaling;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw FlotillaError.of(
        SupervisorCodes.SCALE_OUT_OF_RANGE,
        `unit ${unit.name} runs ${min}..${max} instances, not ${n}`,
        { details: { unit: unit.name, min, max, instances: n } },
      );
    }
    if (n > 1 && sqliteOnly && unit.services.length > 0) {
      throw FlotillaError.of(
        SupervisorCodes.NEEDS_POSTGRES,
        `unit ${unit.name}'s services keep SQLite files, run by one instance under flotilla up: give --database postgres://…/{service} or install PostgreSQL (initdb, postgres) to run ${n}`,
        { details: { unit: unit.name, instances: n } },
      );
    }
  };

  const decide = async (
    name: string,
    to: number,
    signal: ScaleDecision["signal"],
    reason: string,
  ): Promise<ScaleDecision> => {
    const r = runner(name);
    checkCount(r.unit, to);
    if (stopping) throw FlotillaError.of(SupervisorCodes.STOPPING, "the supervisor is stopping");
    const decision: ScaleDecision = { unit: name, from: r.desired, to, signal, reason, at: Date.now() };
    await apply(decision);
    return decision;
  };

  const apply = async (decision: ScaleDecision): Promise<void> => {
    if (decision.to !== decision.from) {
      decisions.push(decision);
      decisions.splice(0, decisions.length - DECISIONS_KEPT);
      const direction = decision.to > decision.from ? "up" : "down";
      metrics.decisions.inc({ unit: decision.unit, signal: decision.signal, direction });
      hub.emit("decision", decision);
    }
    await runner(decision.unit).scale(decision.to);
  };

  const instanceEnv = (edgeKeys: string, databaseUrl: string | undefined): NodeJS.ProcessEnv => ({
    ...process.env,
    FLOTILLA_EDGE_KEYS: edgeKeys,
    // Every instance's spans go to the dashboard's store too, so one store sees the whole system.
    ...(dashboard === undefined ? {} : { FLOTILLA_TRACE_COLLECTOR: dashboard.collectorUrl }),
    // A stopping gateway instance serves on for 2 s with `connection: close`: a client the balancer kept
    // on it reconnects through the balancer to another instance instead of meeting a closed socket.
    FLOTILLA_DRAIN_MS: "2000",
    ...(databaseUrl === undefined ? {} : { FLOTILLA_DB: databaseUrl }),
    ...options.env,
  });

  const prepareDatabase = async (): Promise<string | undefined> => {
    if (options.databaseUrl !== undefined) {
      database = options.databaseUrl.replace(/\/\/[^@/]*@/, "//…@");
      return options.databaseUrl;
    }
    const multi = units.filter((u) => u.services.length > 0 && u.scaling.max > 1);
    if (multi.length === 0) return undefined;
    if (!hasPostgres()) {
      sqliteOnly = true;
      const capped = multi.map((u) => u.name).join(", ");
      log.warn(
        { units: capped },
        `no PostgreSQL binaries and no --database: units ${capped} run one instance each on SQLite files (SQLite serializes every writer: more instances add contention, not capacity); install PostgreSQL or pass --database to scale them`,
      );
      return undefined;
    }
    const pg = await startLocalPostgres(dataDir);
    servers.push(pg);
    database = `PostgreSQL ${pg.url} (pid ${pg.pid}), a database per service`;
    log.info({ url: pg.url, serverPid: pg.pid }, "started PostgreSQL");
    return `${pg.url}/{service}`;
  };

  const autoscaleRound = async (autoscalers: Map<string, Pick<Autoscaler, "recommend">>): Promise<void> => {
    await Promise.all(
      [...runners.values()].map(async (r) => {
        const read = await source
          ?.read(
            r.unit,
            r.ready().map((i) => i.pid),
          )
          .catch((err: unknown) => {
            log.warn({ unit: r.unit.name, err }, `could not read ${r.unit.name}'s signals`);
            return undefined;
          });
        if (read === undefined) return;
        signals.set(r.unit.name, read);
        const decision = autoscalers.get(r.unit.name)?.recommend(r.desired, read);
        if (decision === undefined || decision.to === r.desired || stopping) return;
        if (sqliteOnly && r.unit.services.length > 0 && decision.to > 1) return;
        await apply(decision).catch((err: unknown) => log.warn({ unit: r.unit.name, err }, "scale failed"));
      }),
    );
  };

  const startAutoscaling = (): void => {
    if (options.autoscale === false || natsUrl === undefined) return;
    const make = options.autoscaler ?? ((unit: ResolvedUnit) => new Autoscaler(unit));
    const autoscalers = new Map(units.filter((u) => u.scaling.min < u.scaling.max).map((u) => [u.name, make(u)]));
    source = options.signals ?? signalSource({ natsUrl });
    let busy = false;
    const round = () => {
      if (busy || stopping) return;
      busy = true;
      autoscaleRound(autoscalers).finally(() => {
        busy = false;
      });
    };
    timers.push(setInterval(round, options.syncPeriodMs ?? 15_000));
  };

  /** Local servers, companions, the balancer and control server, then every unit's instances. */
  const startAll = async (self: Supervisor): Promise<void> => {
    mkdirSync(dataDir, { recursive: true });
    if (natsUrl === undefined) {
      const nats = await startLocalNats(dataDir, options.natsPort);
      servers.push(nats);
      natsUrl = nats.url;
      log.info({ url: nats.url, serverPid: nats.pid }, "started nats-server with JetStream");
    }
    const databaseUrl = await prepareDatabase();
    for (const [name, n] of Object.entries(options.instances ?? {})) checkCount(unitNamed(name), n);
    const edgeKeys = ensureEdgeKeys(options.cliBin, dataDir);
    control = await startControlServer(
      {
        status: () => self.status(),
        scale: (unit, n, reason) => self.scale(unit, n, reason),
        restart: (unit) => self.restart(unit),
        metrics: async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
      },
      hub,
      dataDir,
    );
    if (options.dashboard !== undefined) {
      dashboard = await serveDashboard({
        app: options.app,
        natsUrl,
        dataDir,
        port: options.dashboard.port ?? 0,
        host: "127.0.0.1",
        open: options.dashboard.open === true,
        supervisor: { url: control.url, token: control.token },
        log,
      });
    }
    const env = instanceEnv(edgeKeys, databaseUrl);
    // The gateway's own /_flotilla reaches the supervisor too (to scale and restart): its processes get the token.
    const gatewayEnv: NodeJS.ProcessEnv = {
      ...env,
      FLOTILLA_SUPERVISOR_URL: control.url,
      FLOTILLA_SUPERVISOR_TOKEN: control.token,
      // --env has the last word here too (an empty token turns the gateway's link off).
      ...options.env,
    };
    for (const [name, command] of Object.entries(options.companions ?? {})) {
      const companion = new Companion(name, command, env, hub, log);
      companions.push(companion);
      companion.start();
    }
    publisher = await EventPublisher.connect(natsUrl, hub, log);
    const context = {
      cliBin: options.cliBin,
      appPath: options.appPath,
      layout: options.layout ?? "app",
      natsUrl,
      dataDir,
    };
    for (const unit of units) {
      mkdirSync(join(dataDir, "units", unit.name), { recursive: true });
      const r = new UnitRunner(
        unit,
        () => ({
          file: process.execPath,
          args: instanceArgs(unit, context),
          env: unit.gateway ? gatewayEnv : env,
          logDir: join(dataDir, "units", unit.name),
        }),
        hub,
        metrics,
        log,
        options.healing,
      );
      const wanted = options.instances?.[unit.name];
      if (wanted !== undefined) r.desired = wanted;
      if (sqliteOnly && unit.services.length > 0) r.desired = Math.min(r.desired, 1);
      runners.set(unit.name, r);
    }
    const gatewayUnit = units.find((u) => u.gateway);
    if (gatewayUnit !== undefined) {
      balancer = new Balancer(() =>
        runner(gatewayUnit.name)
          .ready()
          .flatMap((i) => (i.gatewayUrl === undefined ? [] : [new URL(i.gatewayUrl)]))
          .map((u) => ({ host: u.hostname, port: Number(u.port) })),
      );
      const port = await balancer.listen(options.gatewayPort ?? 8080, "127.0.0.1");
      gatewayUrl = `http://127.0.0.1:${port}`;
    }
    await Promise.all([...runners.values()].map((r) => r.start()));
    timers.push(
      setInterval(() => {
        for (const r of runners.values())
          r.tick().catch((err: unknown) => log.warn({ unit: r.unit.name, err }, "tick failed"));
      }, TICK_MS),
    );
    startAutoscaling();
    log.info(
      { gateway: gatewayUrl, control: control.url, dashboard: dashboard?.url, dataDir },
      `supervising ${options.app.name}: ${units.map((u) => `${u.name}×${runners.get(u.name)?.desired}`).join(", ")}`,
    );
  };

  return {
    async start() {
      startedAt = Date.now();
      try {
        await startAll(this);
      } catch (err) {
        // What did start (servers, companions, instances) is stopped again before the error surfaces.
        await this.stop().catch((stopErr: unknown) =>
          log.warn({ err: stopErr }, "stopping after a failed start failed"),
        );
        throw err;
      }
    },

    async stop() {
      stopping = true;
      for (const timer of timers) clearInterval(timer);
      const ordered = [...runners.values()].sort((a, b) => Number(b.unit.gateway) - Number(a.unit.gateway));
      const [first, ...rest] = ordered;
      if (first?.unit.gateway) await first.stop();
      await Promise.all((first?.unit.gateway ? rest : ordered).map((r) => r.stop()));
      await balancer?.close();
      await Promise.all(companions.map((c) => c.stop(10_000)));
      // After the instances, so their last spans arrive; before NATS, which its registry and events read.
      await dashboard?.close();
      await source?.close();
      await publisher?.close();
      await control?.close();
      for (const server of servers.reverse()) await server.stop();
      log.info("supervisor stopped");
    },

    scale: (unit, instances, reason = "manual") => decide(unit, instances, "manual", reason),

    restart: (unit) => runner(unit).restart(),

    status() {
      return {
        app: options.app.name,
        pid: process.pid,
        startedAt,
        ...(natsUrl === undefined ? {} : { natsUrl }),
        database,
        ...(gatewayUrl === undefined ? {} : { gatewayUrl }),
        ...(control === undefined ? {} : { controlUrl: control.url }),
        ...(dashboard === undefined ? {} : { dashboardUrl: dashboard.url }),
        units: [...runners.values()].map((r) => {
          const read = signals.get(r.unit.name);
          return { ...r.status(), ...(read === undefined ? {} : { signals: read }) };
        }),
        companions: companions.map((c) => c.status()),
        decisions: [...decisions],
      };
    },

    on: (event, listener) => hub.on(event, listener),
  };
}

function hasPostgres(): boolean {
  try {
    resolvePgBinDir();
    return true;
  } catch {
    return false;
  }
}

/** The edge key file every instance shares (`flotilla edge-keys create` on first use). */
function ensureEdgeKeys(cliBin: string, dataDir: string): string {
  const file = join(dataDir, "edge-keys.json");
  if (!existsSync(file))
    execFileSync(process.execPath, [cliBin, "edge-keys", "create", "--file", file], { stdio: "ignore" });
  return file;
}
