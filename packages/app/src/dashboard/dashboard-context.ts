/**
 * @module What the dashboard's panels read, wherever the dashboard runs: in an app's own process (runApp's
 * `dashboard` option: the host's services are here), in a gateway of a split system (some services here,
 * the others found in the registry), or in `flotilla dashboard` (no service here: everything is read from
 * the registry's instances, the broker and the spans sent to it).
 */
import type { Host, Logger, Registry, Transport } from "@flotilla/core";
import type { TraceStore } from "@flotilla/telemetry";
import type { Tracer } from "@opentelemetry/api";
import type { FlotillaApp } from "../app.js";
import type { AppEvents } from "../app-events.js";

/** A supervisor the dashboard may ask for its status and tell to scale or restart (`flotilla up`). */
export interface SupervisorLink {
  /** Its control server, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Its control token (`<data dir>/supervisor.json`). */
  readonly token: string;
}

/** One action taken through the dashboard (a retry, a drop, a scale): who, when, what, and how it ended. */
export interface AuditEntry {
  /** Epoch milliseconds. */
  readonly at: number;
  /** The caller's subject; "anonymous" when the dashboard is open (development). */
  readonly who: string;
  /** E.g. `dead-letter.retry`, `unit.scale`. */
  readonly action: string;
  /** What it acted on, e.g. the letter's id or `fulfilment=3`. */
  readonly target: string;
  /** `ok`, or the error code it failed with. */
  readonly outcome: string;
}

/** Where the dashboard's actions are recorded, so an admin can see who did what and when. */
export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /** Newest first; `target` keeps the entries whose target starts with it (a letter's event: `event <id> `). */
  list(options?: { limit?: number; action?: string; target?: string }): Promise<AuditEntry[]>;
}

export interface DashboardContext {
  /** The app the system runs: its contracts (declared events and calls), units and sagas. */
  readonly app: FlotillaApp | undefined;
  /** This process's host: the services it runs are read in place. Absent in `flotilla dashboard`. */
  readonly host: Host | undefined;
  /** The instances of every service, wherever they run; absent when everything runs in this process. */
  readonly registry: Registry | undefined;
  /**
   * The transport's events: dead letters and the event history (`openAppEvents` on `transportUrl`);
   * absent when the transport keeps none (`memory://?journal=off`).
   */
  readonly events: AppEvents | undefined;
  /** `memory://…` or `nats://…`, as the app's processes use it. */
  readonly transportUrl: string;
  /** The spans this process keeps: its own, and those sent to it over OTLP. */
  readonly traces: TraceStore | undefined;
  /** This process's metrics as Prometheus text (what its ops port's /metrics serves), when it runs services or a gateway. */
  readonly metrics: { render(): Promise<string> } | undefined;
  readonly supervisor: SupervisorLink | undefined;
  /** Where the dashboard may keep files of its own (its audit log). */
  readonly dataDir: string;
  /** The record of actions taken through the dashboard. */
  readonly audit: AuditLog | undefined;
  readonly tracer: Tracer | undefined;
  readonly log: Logger;
  /**
   * This process's own transport (its host's), for what only a live connection gives: watching events as
   * they are published (a broadcast subscription) and the lag of the groups this process has members in.
   * Absent where the dashboard runs no host (`flotilla dashboard`).
   */
  readonly transport: Transport | undefined;
}
