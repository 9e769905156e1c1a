import { describe, expect, it } from "vitest";
import { z } from "zod";
import { action, defineContract } from "../../src/contract.js";
import { createHost } from "../../src/host.js";
import { MemoryRegistry } from "../../src/registry/memory-registry.js";
import { resolveRegistry } from "../../src/registry/resolve-registry.js";
import { defineService } from "../../src/service.js";
import { MemoryTransport } from "../../src/transport/memory-transport.js";

const box = defineContract({
  service: "box",
  actions: { get: action({ input: z.object({}), output: z.object({}) }) },
});
const boxService = defineService(box, { actions: { get: async () => ({}) } });

const waitUntil = async (predicate: () => boolean) => {
  for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(predicate()).toBe(true);
};

describe("MemoryRegistry with hosts", () => {
  it("lists every host's instance while it runs and drops it when the host stops", async () => {
    const registry = new MemoryRegistry({ heartbeatMs: 20, ttlMs: 60 });
    const transport = new MemoryTransport();
    await transport.connect();
    const hosts = ["a", "b"].map((id) => createHost({ id, services: [boxService], transport, registry }));
    for (const h of hosts) await h.start();
    expect(registry.instances("box")).toMatchObject([
      { instance: "box-a", ready: true, actions: ["box.get"], load: { inFlight: 0 } },
      { instance: "box-b", ready: true },
    ]);
    const list = registry.instances("box");
    expect(registry.instances("box")).toBe(list);
    await hosts[0]?.stop();
    expect(registry.instances("box").map((i) => i.instance)).toEqual(["box-b"]);
    await hosts[1]?.stop();
    expect(registry.instances("box")).toEqual([]);
    await registry.close();
  });

  it("freezes what it stores, so readers cannot change another participant's entry", async () => {
    const registry = new MemoryRegistry();
    const info = {
      service: "box",
      instance: "box-x",
      version: "1",
      host: "h",
      pid: 1,
      actions: ["box.get"],
      events: [],
      startedAt: "",
      ready: true,
      load: { inFlight: 0 },
    };
    await registry.register(info);
    info.actions.push("box.put");
    expect(registry.instances("box")[0]?.actions).toEqual(["box.get"]);
    expect(Object.isFrozen(registry.instances("box")[0]?.load)).toBe(true);
    await expect(registry.register({ ...info, instance: "bad id" })).rejects.toMatchObject({ code: "FLOTILLA_CONFIG" });
    await registry.close();
    await expect(registry.register(info)).rejects.toMatchObject({ status: "UNAVAILABLE" });
  });

  it("expires entries of a closed view after the TTL", async () => {
    const registry = new MemoryRegistry({ heartbeatMs: 10, ttlMs: 30 });
    const crashed = registry.view();
    await crashed.register({
      ...{ service: "box", instance: "box-z", version: "1", host: "h", pid: 1 },
      actions: [],
      events: [],
      startedAt: "",
      ready: true,
      load: { inFlight: 0 },
    });
    await crashed.close();
    expect(registry.instances("box")).toHaveLength(1);
    await waitUntil(() => registry.instances("box").length === 0);
  });
});

describe("resolveRegistry", () => {
  it("builds memory registries from URLs and refuses bad timing or unknown schemes", () => {
    const registry = resolveRegistry("memory://?heartbeatMs=100&ttlMs=500") as MemoryRegistry;
    expect([registry.name, registry.heartbeatMs, registry.ttlMs]).toEqual(["memory", 100, 500]);
    expect(resolveRegistry(registry)).toBe(registry);
    expect(() => resolveRegistry("memory://?heartbeatMs=100&ttlMs=100")).toThrow(
      expect.objectContaining({ code: "FLOTILLA_CONFIG" }),
    );
    expect(() => resolveRegistry("consul://x")).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
    expect(() => resolveRegistry("not a url")).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
  });
});
