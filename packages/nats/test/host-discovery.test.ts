/** @module A host on NATS: its instance shows up in the KV registry and to NATS tooling, and leaves both on stop. */
import { action, createHost, defineContract, defineService, resolveRegistry } from "@flotilla/core";
import { startNatsServer, waitFor } from "@flotilla/testing";
import { Empty, type NatsConnection } from "@nats-io/transport-node";
import { expect, it } from "vitest";
import { z } from "zod";
import { type KvRegistry, natsRegistry, natsTransport } from "../src/index.js";

const greeter = defineContract({
  service: "greeter",
  version: "2.1.0",
  actions: { greet: action({ input: z.object({ name: z.string() }), output: z.object({ text: z.string() }) }) },
});
const service = defineService(greeter, { actions: { greet: async ({ name }) => ({ text: `hello ${name}` }) } });

/** INFO replies for the greeter service; none (no responders) once nobody serves it. */
async function info(nc: NatsConnection): Promise<Record<string, unknown>[]> {
  const replies: Record<string, unknown>[] = [];
  try {
    for await (const msg of await nc.requestMany("$SRV.INFO.greeter", Empty, { strategy: "timer", maxWait: 300 })) {
      if (msg.data.length > 0) replies.push(msg.json());
    }
  } catch {
    // no responders
  }
  return replies;
}

it("lists a host's instance in the KV registry and in $SRV.INFO, and removes it from both on stop", async () => {
  const server = await startNatsServer();
  const registryUrl = `${server.url}?heartbeatMs=200&ttlMs=600`;
  const [hostRegistry, observer] = [0, 1].map(() => resolveRegistry(registryUrl, { nats: natsRegistry }) as KvRegistry);
  const host = createHost({
    id: "h1",
    services: [service],
    transport: server.url,
    transports: { nats: natsTransport },
    registry: hostRegistry,
  });
  const client = createHost({ transport: server.url, transports: { nats: natsTransport } });
  try {
    await host.start();
    await client.start();
    await waitFor(() => observer!.instances("greeter").length === 1, { timeoutMs: 2_000 });
    expect(observer!.instances("greeter")[0]).toMatchObject({
      version: "2.1.0",
      actions: ["greeter.greet"],
      ready: true,
    });
    const instance = observer!.instances("greeter")[0]!.instance;
    const nc = (client.transport as unknown as { connection: NatsConnection }).connection;
    expect(await info(nc)).toMatchObject([
      { id: instance, version: "2.1.0", endpoints: [{ name: "greet", subject: "flotilla.rpc.greeter.greet" }] },
    ]);
    await host.stop();
    // Deregistered, not expired: gone well before the TTL.
    await waitFor(() => observer!.instances("greeter").length === 0, { timeoutMs: 300 });
    expect(await info(nc)).toEqual([]);
  } finally {
    await client.stop();
    await host.stop();
    await Promise.all([hostRegistry!.close(), observer!.close()]);
    await server.stop();
  }
});
