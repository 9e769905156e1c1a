/**
 * @module One deployment unit's instances kept at the wanted count. Failure modes:
 * - crash: an instance exits unasked. It is replaced after an exponential backoff (`backoffMs`
 *   doubling to `maxBackoffMs`); the backoff resets once an instance stays ready `stableMs`.
 * - crash-loop: `crashLoopExits` exits within `crashLoopWindowMs`. The unit is marked `crash-loop`, the
 *   decision logged and counted, and replacements wait the longest backoff until one stays ready `stableMs`.
 * - failed start: an instance that exits, or is not ready within `readyTimeoutMs`, counts as a crash
 *   (a slow one is killed first).
 * - slow drain: an instance asked to stop (SIGTERM) that has not exited after `stopGraceMs` is SIGKILLed.
 */
import type { ResolvedUnit } from "@flotilla/app";
import type { Logger } from "@flotilla/core";
import { trace } from "@opentelemetry/api";
import type { EventHub, InstanceEvent } from "./events.js";
import { Instance, type InstanceSpec, type InstanceStatus } from "./instance.js";
import type { SupervisorMetrics } from "./metrics.js";

/** When to replace crashed instances and when a unit counts as crash-looping. */
export interface HealingOptions {
  /** First delay before replacing a crashed instance (default 1 000 ms); doubles per crash. */
  backoffMs?: number;
  /** Longest delay (default 30 000 ms). */
  maxBackoffMs?: number;
  /** An instance ready this long resets the backoff and ends a crash-loop (default 60 000 ms). */
  stableMs?: number;
  /** Exits within the window that make a crash-loop (default 5). */
  crashLoopExits?: number;
  crashLoopWindowMs?: number;
  /** How long a new instance may take to be ready (default 60 000 ms). */
  readyTimeoutMs?: number;
  /** How long a stopping instance may drain before SIGKILL (default 15 000 ms). */
  stopGraceMs?: number;
  /** A gateway instance leaves the balancer this long before its SIGTERM (default 1 000 ms). */
  gatewayDrainDelayMs?: number;
}

/** A unit's health: starting (no instance ready yet), ok, degraded (fewer ready than wanted), crash-loop. */
export type UnitHealth = "starting" | "ok" | "degraded" | "crash-loop";

/** A unit as the status shows it. */
export interface UnitStatus {
  readonly name: string;
  readonly services: readonly string[];
  readonly gateway: boolean;
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly health: UnitHealth;
  /** Instances started in place of crashed ones, since the supervisor started. */
  readonly restarts: number;
  readonly instances: readonly InstanceStatus[];
}

const DEFAULTS: Required<HealingOptions> = {
  backoffMs: 1_000,
  maxBackoffMs: 30_000,
  stableMs: 60_000,
  crashLoopExits: 5,
  crashLoopWindowMs: 120_000,
  readyTimeoutMs: 60_000,
  stopGraceMs: 15_000,
  gatewayDrainDelayMs: 1_000,
};

const tracer = trace.getTracer("@flotilla/supervisor");

/** Keeps `desired` instances of one unit running and ready; scale and rolling restart one at a time. */
export class UnitRunner {
  desired: number;
  restarts = 0;
  private readonly options: Required<HealingOptions>;
  private readonly instances: Instance[] = [];
  private exits: number[] = [];
  private crashes = 0;
  private crashLoop = false;
  private nextStartAt = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Scale and restart run one after another, never interleaved. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly unit: ResolvedUnit,
    private readonly spec: () => InstanceSpec,
    private readonly hub: EventHub,
    private readonly metrics: SupervisorMetrics,
    private readonly log: Logger,
    options: HealingOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.desired = unit.instances;
  }

  /** Instances neither stopping nor exited. */
  live(): Instance[] {
    return this.instances.filter((i) => !i.stopping && i.state !== "exited");
  }

  /** Instances answering /readyz, not being drained. */
  ready(): Instance[] {
    return this.live().filter((i) => i.state === "ready");
  }

  /** Starts the wanted instances; resolves once they are ready, or once the first attempt failed. */
  async start(): Promise<void> {
    const starting = Array.from({ length: this.desired }, () => this.startOne("start"));
    await Promise.allSettled(starting);
  }

  /** Probes every instance's /readyz, ends a crash-loop once one stayed ready, replaces missing ones. */
  async tick(): Promise<void> {
    await Promise.all(this.live().map((i) => i.probe()));
    const stable = this.ready().some((i) => i.readyAt !== undefined && Date.now() - i.readyAt >= this.options.stableMs);
    if (stable && (this.crashes > 0 || this.crashLoop)) {
      if (this.crashLoop) this.log.info({ unit: this.unit.name }, `unit ${this.unit.name} left crash-loop`);
      this.crashes = 0;
      this.crashLoop = false;
    }
    this.reconcile();
  }

  /** Sets the wanted count and starts (ready-gated) or drains the newest instances to reach it. */
  scale(instances: number): Promise<void> {
    return this.serially(() =>
      tracer.startActiveSpan("supervisor scale", async (span) => {
        span.setAttributes({ "flotilla.unit": this.unit.name, "flotilla.instances": instances });
        try {
          this.desired = instances;
          const live = this.live();
          const missing = instances - live.length;
          if (missing > 0) {
            await Promise.all(Array.from({ length: missing }, () => this.startOne("scale up")));
          }
          const excess = live.slice(instances).reverse();
          await Promise.all(excess.map((i) => this.stopOne(i, "scale down")));
        } finally {
          span.end();
        }
      }),
    );
  }

  /** Rolling restart: for each instance, a new one is started and ready before the old one drains. */
  restart(): Promise<void> {
    return this.serially(() =>
      tracer.startActiveSpan("supervisor restart", async (span) => {
        span.setAttribute("flotilla.unit", this.unit.name);
        try {
          for (const old of this.live()) {
            await this.startOne("rolling restart");
            this.metrics.restarts.inc({ unit: this.unit.name, reason: "rolling" });
            await this.stopOne(old, "rolling restart");
          }
        } finally {
          span.end();
        }
      }),
    );
  }

  /** Drains and stops every instance; nothing is started afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all(this.instances.map((i) => this.stopOne(i, "supervisor stopping")));
  }

  status(): UnitStatus {
    const live = this.live();
    const ready = this.ready().length;
    const health: UnitHealth = this.crashLoop
      ? "crash-loop"
      : ready >= this.desired
        ? "ok"
        : live.every((i) => i.readyAt === undefined) && this.restarts === 0
          ? "starting"
          : "degraded";
    return {
      name: this.unit.name,
      services: this.unit.services,
      gateway: this.unit.gateway,
      desired: this.desired,
      min: this.unit.scaling.min,
      max: this.unit.scaling.max,
      health,
      restarts: this.restarts,
      instances: this.instances.map((i) => i.status()),
    };
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Starts one instance and waits until it is ready; a failed start counts as a crash (see onExit). */
  private startOne(reason: string): Promise<Instance> {
    const instance = new Instance(`${this.unit.name}-${++this.seq}`, this.unit, this.spec());
    this.instances.push(instance);
    this.emit(instance, "started", reason);
    instance.launched.exited.then(() => this.onExit(instance));
    return tracer.startActiveSpan("supervisor instance start", async (span) => {
      span.setAttributes({
        "flotilla.unit": this.unit.name,
        "flotilla.instance": instance.id,
        "process.pid": instance.pid,
      });
      try {
        await instance.waitReady(this.options.readyTimeoutMs);
        this.emit(instance, "ready", reason);
        return instance;
      } catch (err) {
        // Not ready in time: killed, and its exit counts as a crash.
        if (!instance.launched.hasExited()) instance.launched.child.kill("SIGKILL");
        span.recordException(err as Error);
        span.setStatus({ code: 2, message: "not ready" });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  private async stopOne(instance: Instance, reason: string): Promise<void> {
    if (instance.stopping || instance.state === "exited") return;
    this.log.info(
      { unit: this.unit.name, instance: instance.id, instancePid: instance.pid, reason },
      `draining ${instance.id}`,
    );
    await instance.stop(this.options.stopGraceMs, this.unit.gateway ? this.options.gatewayDrainDelayMs : 0);
  }

  private onExit(instance: Instance): void {
    this.instances.splice(this.instances.indexOf(instance), 1);
    const child = instance.launched.child;
    const how = child.signalCode ?? `code ${child.exitCode}`;
    if (instance.stopping || this.stopped) {
      this.emit(instance, "stopped", `exited (${how}) after being asked to stop`);
      return;
    }
    const now = Date.now();
    if (instance.readyAt !== undefined && now - instance.readyAt >= this.options.stableMs) this.crashes = 0;
    this.crashes++;
    this.exits = [...this.exits.filter((t) => now - t < this.options.crashLoopWindowMs), now];
    let delay = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** (this.crashes - 1));
    const change = instance.readyAt === undefined ? "failed-to-start" : "crashed";
    this.emit(instance, change, `exited (${how}) unasked; replaced in ${delay} ms\n${instance.tail(8)}`);
    if (this.exits.length >= this.options.crashLoopExits) {
      delay = this.options.maxBackoffMs;
      if (!this.crashLoop) {
        this.crashLoop = true;
        this.metrics.crashLoops.inc({ unit: this.unit.name });
        const why = `${this.exits.length} exits within ${this.options.crashLoopWindowMs} ms: crash-loop, replacements every ${delay} ms until one stays ready ${this.options.stableMs} ms`;
        this.emit(instance, "crash-loop", why);
      }
    }
    this.nextStartAt = now + delay;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reconcile(), delay);
  }

  /** Starts instances up to the wanted count, unless a crash's backoff is still running. */
  private reconcile(): void {
    if (this.stopped || Date.now() < this.nextStartAt) return;
    for (let missing = this.desired - this.live().length; missing > 0; missing--) {
      this.restarts++;
      this.metrics.restarts.inc({ unit: this.unit.name, reason: "crash" });
      this.startOne("replacing a crashed instance").catch(() => {});
    }
  }

  private emit(instance: Instance, change: InstanceEvent["change"], reason: string): void {
    const event: InstanceEvent = {
      unit: this.unit.name,
      instance: instance.id,
      pid: instance.pid,
      change,
      reason,
      at: Date.now(),
    };
    const level = change === "crashed" || change === "failed-to-start" || change === "crash-loop" ? "warn" : "info";
    this.log[level](
      { unit: event.unit, instance: event.instance, instancePid: event.pid, change, reason },
      `${instance.id} ${change}`,
    );
    this.hub.emit("instance", event);
  }
}
