/** @module Test fixtures: a "flaky" service whose instances fail as scripted, run by real hosts on one transport. */
import {
  action,
  createHost,
  defineContract,
  defineService,
  FlotillaError,
  type Host,
  loadBalancing,
  MemoryRegistry,
  MemoryTransport,
  type Middleware,
  type OutboundCall,
  type Registry,
} from "@flotilla/core";
import { z } from "zod";

export { loadBalancing };

const answer = z.object({ instance: z.string() });

export const flaky = defineContract({
  service: "flaky",
  actions: {
    read: action({ input: z.object({}), output: answer, idempotent: true }),
    write: action({ input: z.object({}), output: answer }),
  },
  errors: { NO_SUCH_THING: "NOT_FOUND" },
});

export type Behaviour = "ok" | "unavailable" | "internal" | "not-found" | { sleepMs: number };

/** What each instance does per call: the first behaviour of its list, the last one sticking. */
export class Script {
  readonly calls = new Map<string, number>();
  running = 0;
  maxRunning = 0;
  private readonly plans = new Map<string, Behaviour[]>();

  set(instance: string, ...behaviours: Behaviour[]): void {
    this.plans.set(instance, behaviours);
  }

  count(instance: string): number {
    return this.calls.get(instance) ?? 0;
  }

  async run(instance: string): Promise<{ instance: string }> {
    this.calls.set(instance, this.count(instance) + 1);
    const plan = this.plans.get(instance) ?? [];
    const behaviour = (plan.length > 1 ? plan.shift() : plan[0]) ?? "ok";
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (behaviour === "unavailable") throw new FlotillaError("UNAVAILABLE", `${instance} is unavailable`);
      if (behaviour === "internal") throw new TypeError(`${instance} has a bug`);
      if (behaviour === "not-found") throw flaky.error("NO_SUCH_THING", "no such thing");
      if (typeof behaviour === "object") await new Promise((r) => setTimeout(r, behaviour.sleepMs));
      return { instance };
    } finally {
      this.running--;
    }
  }
}

export interface Cluster {
  caller: Host;
  registry: Registry;
  script: Script;
  stop(): Promise<void>;
}

/** Starts one host per id (instance `flaky-<id>`) and a caller host with the given middleware. */
export async function cluster(ids: string[], middleware: (registry: Registry) => Middleware[]): Promise<Cluster> {
  const transport = new MemoryTransport({ faithful: true });
  await transport.connect();
  const registry = new MemoryRegistry();
  const script = new Script();
  const service = defineService(flaky, {
    actions: {
      read: (_input, ctx) => script.run(ctx.instance ?? "?"),
      write: (_input, ctx) => script.run(ctx.instance ?? "?"),
    },
  });
  const hosts: Host[] = [];
  for (const id of ids) hosts.push(createHost({ id, services: [service], transport, registry }));
  const caller = createHost({ id: "caller", transport, middleware: middleware(registry) });
  hosts.push(caller);
  for (const host of hosts) await host.start();
  return {
    caller,
    registry,
    script,
    async stop() {
      await Promise.all(hosts.map((h) => h.stop()));
      await registry.close();
    },
  };
}

/** A middleware that records each attempt as it passes (place it after the one under test). */
export function spy(): Middleware & { seen: Array<Pick<OutboundCall, "attempt" | "timeoutMs" | "instance">> } {
  const seen: Array<Pick<OutboundCall, "attempt" | "timeoutMs" | "instance">> = [];
  return {
    name: "spy",
    seen,
    call(call, next) {
      seen.push({ attempt: call.attempt, timeoutMs: call.timeoutMs, instance: call.instance });
      return next();
    },
  };
}

export const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: FlotillaError) => ({ ok: false as const, error }),
  );
