/** @module The supervisor's interface: its options, its status, its operations (docs/supervisor.md). */
import type { FlotillaApp, Layout, ResolvedUnit } from "@flotilla/app";
import type { Logger } from "@flotilla/core";
import type { Autoscaler, ScaleDecision, SignalSource, UnitSignals } from "./autoscale/index.js";
import type { CompanionStatus } from "./companion.js";
import type { SupervisorEvents } from "./events.js";
import type { HealingOptions, UnitStatus } from "./unit-runner.js";

/** How to run an app under supervision. */
export interface SupervisorOptions {
  readonly app: FlotillaApp;
  /** The app module, as `flotilla start --app` takes it. */
  readonly appPath: string;
  /** The `flotilla` CLI script the instances run (`node <cliBin> start …`). */
  readonly cliBin: string;
  readonly layout?: Layout;
  /** An existing NATS server; absent, a nats-server with JetStream starts on `natsPort` (default: a free port). */
  readonly natsUrl?: string;
  readonly natsPort?: number;
  /**
   * The services' databases, as FLOTILLA_DB (`postgres://…/{service}`). Absent, a PostgreSQL cluster
   * starts under the data dir when a unit with services may run more than one instance; without
   * PostgreSQL binaries such units are capped at one instance on SQLite files.
   */
  readonly databaseUrl?: string;
  /** Where the supervisor keeps its files: nats/, postgres/, units/<unit>/, edge-keys.json, supervisor.json. */
  readonly dataDir: string;
  /** The public gateway port the supervisor balances (default 8080; 0 picks a free one). */
  readonly gatewayPort?: number;
  /** Instances to start with, per unit, instead of the unit's own. */
  readonly instances?: Readonly<Record<string, number>>;
  /** Extra environment for instances and companions. */
  readonly env?: Readonly<Record<string, string>>;
  /** Non-Flotilla processes the system needs, name → shell command; started first, stopped last. */
  readonly companions?: Readonly<Record<string, string>>;
  /** Run the autoscale loop (default true; units whose min equals max are never autoscaled). */
  readonly autoscale?: boolean;
  /** The autoscaler per unit (default: the autoscale module's `Autoscaler`). */
  readonly autoscaler?: (unit: ResolvedUnit) => Pick<Autoscaler, "recommend">;
  /** Where signals come from (default: the autoscale module's `signalSource` on the NATS server). */
  readonly signals?: SignalSource;
  /** Autoscale loop period (default 15 000 ms, an HPA's sync period). */
  readonly syncPeriodMs?: number;
  readonly healing?: HealingOptions;
  /**
   * Serve the system's web dashboard from the supervisor's process (`flotilla up`), linked to it for
   * scaling and restarts, its trace store fed by every instance (FLOTILLA_TRACE_COLLECTOR). Absent: none.
   */
  readonly dashboard?: SupervisorDashboardOptions;
  readonly log?: Logger;
}

/** Where the supervisor's dashboard listens, and who may use it. */
export interface SupervisorDashboardOptions {
  /** Its port on 127.0.0.1 (default 0: a free one). */
  readonly port?: number;
  /** No admin token (`flotilla dev`): development only. Otherwise the token is in `<dataDir>/dashboard.json`. */
  readonly open?: boolean;
}

/** Everything `flotilla ps` and the status view show. */
export interface SupervisorStatus {
  readonly app: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly natsUrl?: string;
  readonly database: string;
  readonly gatewayUrl?: string;
  readonly controlUrl?: string;
  /** The dashboard's page, when the supervisor serves one. */
  readonly dashboardUrl?: string;
  readonly units: readonly (UnitStatus & { readonly signals?: UnitSignals })[];
  readonly companions: readonly CompanionStatus[];
  /** The last 20 scale decisions, oldest first. */
  readonly decisions: readonly ScaleDecision[];
}

/** A running (or ready to run) supervisor. */
export interface Supervisor {
  /** Local servers, companions, then every unit's instances, ready. */
  start(): Promise<void>;
  /** Drains and stops instances (the gateway's first), then companions and local servers. */
  stop(): Promise<void>;
  scale(unit: string, instances: number, reason?: string): Promise<ScaleDecision>;
  /** Rolling: a new instance ready, then an old one drained, one at a time. */
  restart(unit: string): Promise<void>;
  status(): SupervisorStatus;
  on<K extends keyof SupervisorEvents>(event: K, listener: (event: SupervisorEvents[K]) => void): () => void;
}
