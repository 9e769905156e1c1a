import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadBalancing, matchesVersion } from "../../src/balancing/load-balancing.js";
import { action, defineContract } from "../../src/contract.js";
import { FlotillaError } from "../../src/errors.js";
import { createHost, type Host } from "../../src/host.js";
import type { Middleware } from "../../src/middleware.js";
import { MemoryRegistry } from "../../src/registry/memory-registry.js";
import type { Registry } from "../../src/registry/registry.js";
import { defineService } from "../../src/service.js";
import { MemoryTransport } from "../../src/transport/memory-transport.js";

const pool = defineContract({
  service: "pool",
  actions: {
    who: action({ input: z.object({}), output: z.object({ instance: z.string() }) }),
    slow: action({ input: z.object({ ms: z.number() }), output: z.object({ instance: z.string() }) }),
  },
});

const calls = new Map<string, number>();
const running = new Map<string, number>();
const peak = new Map<string, number>();
const failing = new Set<string>();
const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

const poolService = defineService(pool, {
  actions: {
    who: async (_input, ctx) => {
      const instance = ctx.instance ?? "?";
      bump(calls, instance);
      if (failing.has(instance)) throw new FlotillaError("UNAVAILABLE", `${instance} is failing`);
      return { instance };
    },
    slow: async ({ ms }, ctx) => {
      const instance = ctx.instance ?? "?";
      bump(running, instance);
      peak.set(instance, Math.max(peak.get(instance) ?? 0, running.get(instance) ?? 0));
      await new Promise((r) => setTimeout(r, ms));
      bump(running, instance, -1);
      return { instance };
    },
  },
});

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
  for (const map of [calls, running, peak]) map.clear();
  failing.clear();
});

async function cluster(ids: string[], registry: Registry | undefined, middleware: Middleware[]) {
  const transport = new MemoryTransport();
  await transport.connect();
  for (const id of ids) {
    const host = createHost({ id, services: [poolService], transport, ...(registry ? { registry } : {}) });
    hosts.push(host);
    await host.start();
  }
  const caller = createHost({ id: "caller", transport, middleware });
  hosts.push(caller);
  await caller.start();
  return caller;
}

const fakeInstance = (instance: string, patch: { ready?: boolean; actions?: string[] }) => ({
  service: "pool",
  instance,
  version: "1.0.0",
  host: "h",
  pid: 1,
  actions: patch.actions ?? ["pool.who", "pool.slow"],
  events: [],
  startedAt: new Date().toISOString(),
  ready: patch.ready ?? true,
  load: { inFlight: 0 },
});

/** The same service at a newer contract version: the same actions, so only `versions` tells its instances apart. */
const poolV2 = defineContract({ service: "pool", version: "2.1.0", actions: pool.actions });
const poolServiceV2 = defineService(poolV2, {
  actions: {
    who: async (_input, ctx) => {
      bump(calls, ctx.instance ?? "?");
      return { instance: ctx.instance ?? "?" };
    },
    slow: async (_input, ctx) => ({ instance: ctx.instance ?? "?" }),
  },
});

describe("loadBalancing", () => {
  it("steers a call to the instances of the first version prefix that has any, else to all", async () => {
    const registry = new MemoryRegistry();
    const caller = await cluster(["a"], registry, [loadBalancing({ registry })]);
    const transport = caller.transport;
    const v2 = createHost({ id: "b", services: [poolServiceV2], transport, registry });
    hosts.push(v2);
    await v2.start();
    const served = async (versions: readonly string[] | undefined, n = 6) => {
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) seen.add((await caller.call(pool.who, {}, versions ? { versions } : {})).instance);
      return [...seen].sort();
    };
    expect(await served(["2"])).toEqual(["pool-b"]);
    expect(await served(["1.0"])).toEqual(["pool-a"]);
    expect(await served(["3", "1"])).toEqual(["pool-a"]);
    expect(await served(["3"])).toEqual(["pool-a", "pool-b"]);
    expect(await served(undefined)).toEqual(["pool-a", "pool-b"]);
    await v2.stop();
    // The only v2 instance left: its calls fall back to the instances that remain.
    expect(await served(["2"])).toEqual(["pool-a"]);
    await registry.close();
  });

  it("matches a version prefix on whole components", () => {
    expect(matchesVersion("2.1.0", "2")).toBe(true);
    expect(matchesVersion("2.1.0", "2.1")).toBe(true);
    expect(matchesVersion("2.1.0", "2.1.0")).toBe(true);
    expect(matchesVersion("20.1.0", "2")).toBe(false);
    expect(matchesVersion("2.10.0", "2.1")).toBe(false);
  });

  it("picks among ready registered instances that serve the action", async () => {
    const registry = new MemoryRegistry();
    const caller = await cluster(["a", "b"], registry, [loadBalancing({ registry })]);
    // Registered but unusable: were either picked, the transport would answer FLOTILLA_NO_INSTANCE.
    await registry.register(fakeInstance("pool-starting", { ready: false }));
    await registry.register(fakeInstance("pool-old", { actions: ["pool.slow"] }));
    for (let i = 0; i < 20; i++) await caller.call(pool.who, {});
    expect(Object.fromEntries(calls)).toEqual({ "pool-a": 10, "pool-b": 10 });
    await registry.close();
  });

  it("sends a call again to the queue group when the chosen instance is gone (it received nothing)", async () => {
    const registry = new MemoryRegistry();
    const caller = await cluster(["a"], registry, [loadBalancing({ registry })]);
    // Listed ready, but no longer serving: as an instance drained by a rolling restart, before the
    // registry's view caught up. Round-robin picks it for every other call.
    await registry.register(fakeInstance("pool-gone", {}));
    for (let i = 0; i < 10; i++) expect((await caller.call(pool.who, {})).instance).toBe("pool-a");
    expect(Object.fromEntries(calls)).toEqual({ "pool-a": 10 });
    // A call pinned to it by the caller is not redirected.
    const pinned = await caller.call(pool.who, {}, { instance: "pool-gone" }).catch((e: unknown) => e);
    expect(pinned).toMatchObject({ code: "FLOTILLA_NO_INSTANCE" });
    await registry.close();
  });

  it("leaves a pinned instance alone and honours the call's strategy over the service's", async () => {
    const registry = new MemoryRegistry();
    const caller = await cluster(["a", "b", "c"], registry, [
      loadBalancing({ registry, services: { pool: "key-affinity" } }),
    ]);
    for (let i = 0; i < 5; i++)
      expect((await caller.call(pool.who, {}, { instance: "pool-c" })).instance).toBe("pool-c");
    const owner = (await caller.call(pool.who, {}, { key: "order-7" })).instance;
    for (let i = 0; i < 10; i++) expect((await caller.call(pool.who, {}, { key: "order-7" })).instance).toBe(owner);
    const spread = new Set<string>();
    for (let i = 0; i < 9; i++)
      spread.add((await caller.call(pool.who, {}, { key: "order-7", strategy: "round-robin" })).instance);
    expect(spread.size).toBe(3);
    const err = await caller.call(pool.who, {}, { strategy: "fastest" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "FLOTILLA_CONFIG" });
    await registry.close();
  });

  it("falls through to the transport's balancing when the registry knows no instance", async () => {
    const registry = new MemoryRegistry();
    const caller = await cluster(["a", "b"], undefined, [loadBalancing({ registry })]);
    for (let i = 0; i < 10; i++) await caller.call(pool.who, {});
    expect(calls.size).toBe(2);
  });

  it("spreads concurrent calls evenly with least-in-flight", async () => {
    const registry = new MemoryRegistry();
    const caller = await cluster(["a", "b", "c"], registry, [loadBalancing({ registry, strategy: "least-in-flight" })]);
    await Promise.all(Array.from({ length: 30 }, () => caller.call(pool.slow, { ms: 30 })));
    expect(Object.fromEntries(peak)).toEqual({ "pool-a": 10, "pool-b": 10, "pool-c": 10 });
    await registry.close();
  });

  it("skips avoided instances while others remain", async () => {
    const registry = new MemoryRegistry();
    const avoided = new Set(["pool-b"]);
    const avoid = (_service: string, instance: string) => avoided.has(instance);
    const caller = await cluster(["a", "b"], registry, [loadBalancing({ registry, avoid })]);
    for (let i = 0; i < 6; i++) expect((await caller.call(pool.who, {})).instance).toBe("pool-a");
    avoided.add("pool-a");
    for (let i = 0; i < 6; i++) await caller.call(pool.who, {});
    expect(calls.get("pool-b")).toBe(3);
    await registry.close();
  });

  it("restores call.instance after an attempt, and sends a repeat attempt to an instance not yet failed on", async () => {
    const registry = new MemoryRegistry();
    const seen: Array<string | undefined> = [];
    const retryOnce: Middleware = {
      name: "retry-once",
      call: async (call, next) => {
        try {
          return await next();
        } catch {
          seen.push(call.instance);
          call.attempt++;
          return next();
        }
      },
    };
    const caller = await cluster(["a", "b"], registry, [
      retryOnce,
      loadBalancing({ registry, strategy: "key-affinity" }),
    ]);
    const owner = (await caller.call(pool.who, {}, { key: "k" })).instance;
    failing.add(owner);
    const other = owner === "pool-a" ? "pool-b" : "pool-a";
    expect((await caller.call(pool.who, {}, { key: "k" })).instance).toBe(other);
    expect(seen).toEqual([undefined]);
    await registry.close();
  });
});
