/**
 * @module One running instance of a deployment unit: a child process, its readiness (the `/readyz` of
 * its ops port), its graceful stop. The child is guarded: if the supervisor dies, even by SIGKILL, a
 * watchdog on a pipe from it stops the child (SIGTERM, SIGKILL 5 s later).
 */
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import type { ResolvedUnit } from "@flotilla/app";
import { type Launched, launch, terminate } from "./servers/index.js";

/** Where an instance is in its life. */
export type InstanceState = "starting" | "ready" | "unready" | "draining" | "exited";

/** How to spawn an instance. */
export interface InstanceSpec {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** Directory of the instance's log file, `<id>.log` (its stdout and stderr, appended). */
  readonly logDir: string;
}

/** An instance as the status shows it. */
export interface InstanceStatus {
  readonly id: string;
  readonly unit: string;
  readonly pid: number;
  readonly state: InstanceState;
  readonly startedAt: number;
  readonly readyAt?: number;
  /** `http://127.0.0.1:PORT` of its /livez /readyz /metrics. */
  readonly opsUrl?: string;
  /** `http://127.0.0.1:PORT` of its gateway, when the unit serves it. */
  readonly gatewayUrl?: string;
}

const PROBE_TIMEOUT_MS = 2_000;

/** A unit's instance; `started` settles once it is ready (or rejects when it exits or times out first). */
export class Instance {
  readonly startedAt = Date.now();
  readonly launched: Launched;
  state: InstanceState = "starting";
  readyAt: number | undefined;
  opsUrl: string | undefined;
  gatewayUrl: string | undefined;
  /** True once the supervisor chose to stop it: its exit is no crash. */
  stopping = false;

  constructor(
    readonly id: string,
    readonly unit: ResolvedUnit,
    spec: InstanceSpec,
  ) {
    this.launched = launch(spec.file, spec.args, { stopSignal: "SIGTERM", env: spec.env, ownProcessGroup: true });
    const log = createWriteStream(join(spec.logDir, `${id}.log`), { flags: "a" });
    this.launched.child.stdout?.pipe(log, { end: false });
    this.launched.child.stderr?.pipe(log, { end: false });
    this.launched.exited.then(() => log.end());
    this.launched.exited.then(() => {
      this.state = "exited";
    });
  }

  get pid(): number {
    return this.launched.pid;
  }

  /** Waits until the instance printed its addresses and its /readyz answers 200. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.launched.hasExited() || this.stopping) {
        const how = this.launched.child.exitCode ?? this.launched.child.signalCode;
        throw new Error(`${this.id} exited before it was ready (${how})\n${this.tail()}`);
      }
      this.readAddresses();
      if (this.opsUrl !== undefined && (await this.probe())) return;
      if (Date.now() > deadline) throw new Error(`${this.id} was not ready within ${timeoutMs} ms\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Asks /readyz and records the answer in `state` (a draining or exited instance stays so). */
  async probe(): Promise<boolean> {
    if (this.opsUrl === undefined) return false;
    const ok = await fetch(`${this.opsUrl}/readyz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }).then(
      async (res) => {
        await res.arrayBuffer();
        return res.status === 200;
      },
      () => false,
    );
    if (this.state === "draining" || this.state === "exited") return false;
    this.state = ok ? "ready" : this.state === "starting" ? "starting" : "unready";
    if (ok) this.readyAt ??= Date.now();
    return ok;
  }

  /**
   * Graceful stop: marked draining at once (the balancer sends it no new connections), SIGTERM after
   * `delayMs` (connections the balancer just handed it reach it first), then the instance drains
   * (in-flight requests and messages finish) and exits; SIGKILL after `graceMs`.
   */
  async stop(graceMs: number, delayMs = 0): Promise<void> {
    this.stopping = true;
    if (this.launched.hasExited()) return;
    this.state = "draining";
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    await terminate(this.launched, "SIGTERM", graceMs);
  }

  /** The last lines the instance printed, for a crash's log line. */
  tail(lines = 20): string {
    return this.launched.output().trimEnd().split("\n").slice(-lines).join("\n");
  }

  status(): InstanceStatus {
    return {
      id: this.id,
      unit: this.unit.name,
      pid: this.pid,
      state: this.state,
      startedAt: this.startedAt,
      ...(this.readyAt === undefined ? {} : { readyAt: this.readyAt }),
      ...(this.opsUrl === undefined ? {} : { opsUrl: this.opsUrl }),
      ...(this.gatewayUrl === undefined ? {} : { gatewayUrl: this.gatewayUrl }),
    };
  }

  private readAddresses(): void {
    if (this.opsUrl !== undefined) return;
    const out = this.launched.output();
    const ops = /operations on (http:\/\/\S+)/.exec(out)?.[1];
    if (ops === undefined) return;
    if (this.unit.gateway) {
      const gateway = / listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (gateway === undefined) return;
      this.gatewayUrl = gateway;
    }
    this.opsUrl = ops;
  }
}
