/**
 * @module The supervisor's side of the Metrics view: each unit's instances over time and every scale
 * decision with its reason, read from the control API's status and kept up to date from its event stream
 * while someone watches (the `scaling` topic). Bounded: a ring of points per unit and the newest decisions.
 */
import type { Logger } from "@flotilla/core";
import { SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { Ring } from "./metrics-history.js";
import type { ScaleDecisionView, SupervisorClient, UnitStatusView } from "./supervisor-client.js";

/** Epoch ms, instances wanted, instances ready. */
export type UnitPoint = [at: number, desired: number, ready: number];

export interface UnitView {
  readonly name: string;
  readonly services: readonly string[];
  readonly gateway: boolean;
  readonly desired: number;
  readonly ready: number;
  readonly min: number;
  readonly max: number;
  readonly health: string;
  readonly restarts: number;
  readonly points: UnitPoint[];
}

/** What `GET /_flotilla/api/metrics/scaling` answers and each `scaling` event carries. */
export interface ScalingView {
  readonly readAt: number;
  readonly app: string | null;
  readonly units: UnitView[];
  /** Newest first. */
  readonly decisions: ScaleDecisionView[];
  /** Why the supervisor could not be read (its status is then the last one read). */
  readonly error?: string;
}

/** Decisions kept (the supervisor's status holds its last 20). */
const MAX_DECISIONS = 100;
/** Points kept per unit: a status read every 5 s and on each event, 15 minutes and more. */
const POINTS_PER_UNIT = 400;

export interface ScalingWatchOptions {
  readonly client: SupervisorClient;
  /** How often the status is read while watched, besides on each event (5,000 ms). */
  readonly refreshMs?: number;
  readonly tracer: Tracer | undefined;
  readonly log: Logger;
}

export class ScalingWatch {
  private readonly points = new Map<string, Ring<UnitPoint>>();
  private readonly decisions = new Map<string, ScaleDecisionView>();
  private units: readonly UnitStatusView[] = [];
  private app: string | null = null;
  private error: string | undefined;
  private reading: Promise<ScalingView> | undefined;
  private again = false;

  constructor(private readonly options: ScalingWatchOptions) {}

  /** Reads the status now (one read at a time: a read asked during another runs once after it). */
  read(): Promise<ScalingView> {
    if (this.reading !== undefined) {
      this.again = true;
      return this.reading;
    }
    this.reading = this.traced().finally(() => {
      this.reading = undefined;
      if (this.again) {
        this.again = false;
        void this.read();
      }
    });
    return this.reading;
  }

  /** The push topic's source: a status read on each supervisor event and every `refreshMs`. */
  start(publish: (view: ScalingView) => void): () => void {
    const refresh = () => {
      this.read().then(publish, () => {});
    };
    const stopFollowing = this.options.client.follow(
      (type, data) => {
        if (type === "decision") this.addDecision(data as ScaleDecisionView);
        refresh();
      },
      (err) => this.options.log.warn({ err }, "dashboard: the supervisor's events cannot be followed"),
    );
    const timer = setInterval(refresh, this.options.refreshMs ?? 5_000);
    refresh();
    return () => {
      clearInterval(timer);
      stopFollowing();
    };
  }

  view(): ScalingView {
    const units = this.units.map((u): UnitView => {
      const ring = this.points.get(u.name);
      return {
        name: u.name,
        services: u.services,
        gateway: u.gateway,
        desired: u.desired,
        ready: readyOf(u),
        min: u.min,
        max: u.max,
        health: u.health,
        restarts: u.restarts,
        points: ring?.toArray() ?? [],
      };
    });
    const decisions = [...this.decisions.values()].sort((a, b) => b.at - a.at);
    return {
      readAt: Date.now(),
      app: this.app,
      units,
      decisions,
      ...(this.error === undefined ? {} : { error: this.error }),
    };
  }

  private async traced(): Promise<ScalingView> {
    const { tracer } = this.options;
    if (tracer === undefined) return this.refresh();
    return tracer.startActiveSpan("dashboard.metrics.supervisor", async (span) => {
      try {
        const view = await this.refresh();
        span.setAttribute("flotilla.dashboard.units", view.units.length);
        if (view.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: view.error });
        return view;
      } finally {
        span.end();
      }
    });
  }

  private async refresh(): Promise<ScalingView> {
    try {
      const status = await this.options.client.status();
      const at = Date.now();
      this.app = status.app;
      this.units = status.units;
      for (const unit of status.units) {
        let ring = this.points.get(unit.name);
        if (ring === undefined) {
          ring = new Ring(POINTS_PER_UNIT);
          this.points.set(unit.name, ring);
        }
        ring.push([at, unit.desired, readyOf(unit)]);
      }
      for (const decision of status.decisions) this.addDecision(decision);
      this.error = undefined;
    } catch (err) {
      this.error = (err as Error).message;
    }
    return this.view();
  }

  private addDecision(decision: ScaleDecisionView): void {
    this.decisions.set(`${decision.at} ${decision.unit} ${decision.from} ${decision.to}`, decision);
    if (this.decisions.size <= MAX_DECISIONS) return;
    const oldest = [...this.decisions].sort((a, b) => a[1].at - b[1].at)[0];
    if (oldest !== undefined) this.decisions.delete(oldest[0]);
  }
}

function readyOf(unit: UnitStatusView): number {
  return unit.instances.filter((i) => i.state === "ready").length;
}
