/** @module The supervisor's Prometheus metrics (prom-client), served on its control server's /metrics. */
import { Counter, Gauge, Registry } from "prom-client";
import type { InstanceState } from "./instance.js";

/** What the metrics read at scrape time: each unit's instance counts by state and wanted count. */
export interface MetricsSource {
  units(): readonly { name: string; desired: number; states: readonly InstanceState[] }[];
}

const STATES: readonly InstanceState[] = ["starting", "ready", "unready", "draining"];

/** The supervisor's metrics, registered in their own registry. */
export class SupervisorMetrics {
  readonly registry = new Registry();
  readonly restarts: Counter<"unit" | "reason">;
  readonly decisions: Counter<"unit" | "signal" | "direction">;
  readonly crashLoops: Counter<"unit">;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    new Gauge({
      name: "flotilla_supervisor_instances",
      help: "Instances of each deployment unit by state (starting, ready, unready, draining).",
      labelNames: ["unit", "state"],
      registers,
      collect() {
        this.reset();
        for (const unit of source.units()) {
          for (const state of STATES) {
            this.set({ unit: unit.name, state }, unit.states.filter((s) => s === state).length);
          }
        }
      },
    });
    new Gauge({
      name: "flotilla_supervisor_desired_instances",
      help: "Instances the supervisor wants of each unit (set by the autoscaler or `flotilla scale`).",
      labelNames: ["unit"],
      registers,
      collect() {
        this.reset();
        for (const unit of source.units()) this.set({ unit: unit.name }, unit.desired);
      },
    });
    this.restarts = new Counter({
      name: "flotilla_supervisor_restarts_total",
      help: "Instances started in place of another: reason crash (it exited unasked) or rolling (a rolling restart).",
      labelNames: ["unit", "reason"],
      registers,
    });
    this.decisions = new Counter({
      name: "flotilla_supervisor_scale_decisions_total",
      help: "Changes of a unit's wanted instance count, by the signal behind them and their direction (up, down).",
      labelNames: ["unit", "signal", "direction"],
      registers,
    });
    this.crashLoops = new Counter({
      name: "flotilla_supervisor_crash_loops_total",
      help: "Times a unit entered crash-loop (too many exits within the window).",
      labelNames: ["unit"],
      registers,
    });
  }
}
