/**
 * @module A companion: a process the system needs that is not Flotilla's (the shop's legacy monolith).
 * Started before the units and stopped after them, restarted with backoff when it exits unasked, never
 * scaled and without a readiness check.
 */
import type { Logger } from "@flotilla/core";
import type { EventHub } from "./events.js";
import { type Launched, launch, terminate } from "./servers/index.js";

/** A companion as the status shows it. */
export interface CompanionStatus {
  readonly name: string;
  readonly command: string;
  readonly pid: number;
  readonly running: boolean;
  readonly restarts: number;
  readonly startedAt: number;
}

const MAX_BACKOFF_MS = 30_000;
const STABLE_MS = 60_000;

/** One companion process, kept running with `sh -c "exec <command>"` until stopped. */
export class Companion {
  private proc: Launched | undefined;
  private startedAt = 0;
  private restarts = 0;
  private crashes = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    readonly command: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly hub: EventHub,
    private readonly log: Logger,
    private readonly backoffMs = 1_000,
  ) {}

  start(): void {
    this.startedAt = Date.now();
    const proc = launch("sh", ["-c", `exec ${this.command}`], {
      stopSignal: "SIGTERM",
      env: this.env,
      ownProcessGroup: true,
    });
    this.proc = proc;
    this.report("started", `sh -c "exec ${this.command}"`);
    proc.exited.then(() => {
      if (this.stopped) return;
      const how = proc.child.signalCode ?? `code ${proc.child.exitCode}`;
      this.crashes = Date.now() - this.startedAt >= STABLE_MS ? 1 : this.crashes + 1;
      const delay = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2 ** (this.crashes - 1));
      const tail = proc.output().trimEnd().split("\n").slice(-8).join("\n");
      this.report("crashed", `exited (${how}) unasked; restarted in ${delay} ms\n${tail}`);
      this.timer = setTimeout(() => {
        this.restarts++;
        this.start();
      }, delay);
    });
  }

  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.proc) await terminate(this.proc, "SIGTERM", graceMs);
  }

  status(): CompanionStatus {
    return {
      name: this.name,
      command: this.command,
      pid: this.proc?.pid ?? -1,
      running: this.proc !== undefined && !this.proc.hasExited(),
      restarts: this.restarts,
      startedAt: this.startedAt,
    };
  }

  private report(change: "started" | "crashed", reason: string): void {
    const event = { unit: this.name, instance: this.name, pid: this.proc?.pid ?? -1, change, reason, at: Date.now() };
    this.log[change === "crashed" ? "warn" : "info"](
      { companion: this.name, companionPid: event.pid, reason },
      `companion ${this.name} ${change}`,
    );
    this.hub.emit("instance", event);
  }
}
