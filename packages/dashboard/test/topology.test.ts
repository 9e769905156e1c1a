/** The topology without a registry (the host's own services) and with one (every instance it knows). */
import { action, createHost, defineContract, defineService, type Host, MemoryRegistry } from "@flotilla/core";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { readTopology } from "../src/topology.js";

const echo = defineContract({
  service: "echo",
  version: "1.4.0",
  actions: { say: action({ input: z.object({ text: z.string() }), output: z.object({ text: z.string() }) }) },
});
const echoService = defineService(echo, { actions: { say: async (input) => input } });

describe("readTopology", () => {
  const hosts: Host[] = [];
  afterEach(async () => {
    for (const host of hosts.splice(0)) await host.stop();
  });

  it("shows the host's services as this process runs them: down before the start, up after", async () => {
    const host = createHost({ services: [echoService] });
    hosts.push(host);
    const before = await readTopology({ host, routed: ["echo", "elsewhere"] });
    expect(before.source).toBe("process");
    expect(before.services.map((s) => [s.name, s.health, s.routed, s.instances.length])).toEqual([
      ["echo", "down", true, 1],
      ["elsewhere", "down", true, 0],
    ]);
    await host.start();
    const after = await readTopology({ host });
    const [service] = after.services;
    expect(service?.health).toBe("up");
    expect(service?.instances[0]).toMatchObject({
      instance: `echo-${host.id}`,
      ready: true,
      pid: process.pid,
      version: null,
    });
  });

  it("reads every instance of each service from the registry, wherever it runs", async () => {
    const registry = new MemoryRegistry();
    const edge = createHost({ registry });
    const first = createHost({ services: [echoService], registry, transport: edge.transport });
    const second = createHost({ services: [echoService], registry, transport: edge.transport });
    hosts.push(second, first, edge);
    await edge.start();
    await first.start();
    await second.start();
    const topology = await readTopology({ host: edge, registry, routed: ["echo"] });
    expect(topology.source).toBe("registry");
    const [service] = topology.services;
    expect(service?.health).toBe("up");
    expect(service?.instances.map((i) => i.instance).sort()).toEqual([`echo-${first.id}`, `echo-${second.id}`].sort());
    for (const instance of service?.instances ?? []) expect(instance.version).toBe("1.4.0");

    await second.stop();
    const [after] = (await readTopology({ host: edge, registry, routed: ["echo"] })).services;
    expect(after?.instances.map((i) => i.instance)).toEqual([`echo-${first.id}`]);
  });
});
