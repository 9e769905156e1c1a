/**
 * Least-privilege users against a real nats-server: each service works with its own user, and a
 * connection is refused (as NATS reports it) what its user does not own.
 */
import {
  action,
  createHost,
  defineContract,
  defineService,
  event,
  type Host,
  type OrchestratorDefinition,
} from "@flotilla/core";
import { type NatsServerHandle, startNatsServer } from "@flotilla/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type KvRegistry,
  natsRegistry,
  natsServerConfig,
  natsTransport,
  natsUsers,
  natsUserUrl,
} from "../src/index.js";
import type { NatsUser } from "../src/permissions-config.js";

const Empty = z.object({});
const Item = z.object({ id: z.string() });
const shelf = defineContract({
  service: "shelf",
  actions: { getItem: action({ input: Item, output: Item }), addItem: action({ input: Item, output: Empty }) },
  events: { ItemAdded: event({ schema: Item }) },
});
const till = defineContract({ service: "till", actions: { pay: action({ input: Empty, output: Empty }) } });
const buyer = defineContract({ service: "buyer", events: { Bought: event({ schema: Empty }) } });

const shelfService = defineService(shelf, {
  calls: [],
  actions: {
    getItem: (input) => input,
    addItem: async (input, ctx) => {
      await ctx.emit(shelf.ItemAdded, input);
      return {};
    },
  },
});
const restocked: string[] = [];
const refreshed: string[] = [];
const checkout: OrchestratorDefinition = {
  kind: "orchestrator",
  name: "checkout",
  calls: [till.pay],
  attach: async () => ({ settle: async () => {} }),
};
const buyerService = defineService(buyer, {
  calls: [shelf.getItem],
  actions: {},
  orchestrators: [checkout],
  subscriptions: {
    restock: { event: shelf.ItemAdded, handle: async ({ id }) => void restocked.push(id) },
    refresh: { event: shelf.ItemAdded, broadcast: true, handle: async ({ id }) => void refreshed.push(id) },
  },
});

let server: NatsServerHandle;
let users: Map<string, NatsUser>;
const hosts: Host[] = [];
const registries: KvRegistry[] = [];
const raw: NatsConnection[] = [];

function urlOf(user: string): string {
  const found = users.get(user);
  if (found === undefined) throw new Error(`no user ${user}`);
  return natsUserUrl(found, server.url);
}

/** A plain nats.js connection as `user`, and the permission violations the server reports to it. */
async function rawAs(user: string) {
  const found = users.get(user)!;
  const nc = await connect({
    servers: `127.0.0.1:${server.port}`,
    user: found.user,
    pass: found.password,
    inboxPrefix: found.inboxPrefix,
  });
  raw.push(nc);
  const violations: { operation: string; subject: string; queue?: string }[] = [];
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type !== "error") continue;
      const err = status.error as { name?: string; operation?: string; subject?: string; queue?: string };
      if (err.name === "PermissionViolationError") {
        violations.push({ operation: err.operation ?? "", subject: err.subject ?? "", queue: err.queue });
      }
    }
  })();
  return { nc, violations };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  const generated = natsUsers(
    [
      { name: "shelf", services: [shelfService] },
      { name: "buyer", services: [buyerService] },
      { name: "edge", services: [], gateway: { calls: ["shelf.addItem", "till.pay"], events: [] } },
    ],
    { registryBucket: "flotilla_registry" },
  );
  users = new Map(generated.map((u) => [u.user, u]));
  server = await startNatsServer({ config: natsServerConfig(generated) });
  for (const [name, services] of [
    ["shelf", [shelfService]],
    ["buyer", [buyerService]],
    ["edge", []],
  ] as const) {
    // Every unit also registers its instances in, and watches, the NATS KV registry under its own user.
    const registry = natsRegistry(new URL(`${urlOf(name)}&heartbeatMs=200&ttlMs=600`)) as KvRegistry;
    registries.push(registry);
    const host = createHost({
      services: [...services],
      transport: urlOf(name),
      transports: { nats: natsTransport },
      registry,
    });
    await host.start();
    hosts.push(host);
  }
}, 30_000);

afterAll(async () => {
  for (const nc of raw) await nc.close();
  for (const host of hosts.reverse()) await host.stop();
  for (const registry of registries) await registry.close();
  await server?.stop();
});

describe("least-privilege NATS users", () => {
  it("let each service do its own work: calls, events to a durable group and a broadcast subscriber", async () => {
    const [, buyerHost, edge] = hosts as [Host, Host, Host];
    await expect(buyerHost.call(shelf.getItem, { id: "cup" })).resolves.toEqual({ id: "cup" });
    await expect(edge.call(shelf.addItem, { id: "mug" })).resolves.toEqual({});
    await until(() => restocked.includes("mug") && refreshed.includes("mug"), "both subscribers to get the event");
    // Each unit sees the others' instances in the registry, put under their own users.
    await until(
      () => registries.every((r) => r.instances("shelf").length === 1 && r.instances("buyer").length === 1),
      "every registry view to list shelf and buyer",
    );
    expect(server.logs()).not.toMatch(/Violation/);
  });

  it("refuse a connection another service's event subject and another service's action", async () => {
    const { nc, violations } = await rawAs("shelf");
    nc.publish("flotilla.evt.buyer.Bought", "{}");
    nc.subscribe("flotilla.rpc.till.>", { queue: "till" });
    nc.subscribe("flotilla.inst.shelf-1.till.>");
    nc.subscribe("_INBOX_buyer.>");
    await nc.flush();
    await until(() => violations.length >= 4, "four permission violations");
    expect(violations).toEqual([
      { operation: "publish", subject: "flotilla.evt.buyer.Bought", queue: undefined },
      { operation: "subscription", subject: "flotilla.rpc.till.>", queue: "till" },
      { operation: "subscription", subject: "flotilla.inst.shelf-1.till.>", queue: undefined },
      { operation: "subscription", subject: "_INBOX_buyer.>", queue: undefined },
    ]);
    // The server logs each one too: what the split shop's test checks it never does.
    expect(server.logs()).toMatch(/Publish Violation - User "shelf", Subject "flotilla\.evt\.buyer\.Bought"/);
  });

  it("refuse a service calling an action it did not declare, and serving its own queue in another group", async () => {
    const { nc, violations } = await rawAs("buyer");
    nc.publish("flotilla.rpc.shelf.addItem", "{}");
    nc.subscribe("flotilla.rpc.shelf.>", { queue: "shelf" });
    await nc.flush();
    await until(() => violations.length >= 2, "two permission violations");
    expect(violations.map((v) => `${v.operation} ${v.subject}`)).toEqual([
      "publish flotilla.rpc.shelf.addItem",
      "subscription flotilla.rpc.shelf.>",
    ]);
  });

  it("refuse a service started under a user that does not own it, and leave its action without instances", async () => {
    // The shelf's user tries to serve the till: NATS refuses the subscriptions, and the start fails.
    const intruder = createHost({
      services: [defineService(till, { calls: [], actions: { pay: () => ({}) } })],
      transport: urlOf("shelf"),
      transports: { nats: natsTransport },
    });
    await expect(intruder.start()).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
      message: expect.stringContaining(
        'NATS refused serving till: Permissions Violation for Subscription to "flotilla.rpc.till.>"',
      ),
    });
    await intruder.stop();
    await expect((hosts[2] as Host).call(till.pay, {})).rejects.toMatchObject({ code: "FLOTILLA_NO_INSTANCE" });
  });

  it("refuse an emit to another service's stream through the transport", async () => {
    const shelfTransport = natsTransport(new URL(urlOf("shelf")));
    await shelfTransport.connect();
    try {
      const bought = {
        id: "e-1",
        type: "buyer.Bought",
        source: "buyer",
        version: 1,
        time: new Date().toISOString(),
        headers: {},
        data: {},
      };
      await expect(shelfTransport.publish(bought)).rejects.toMatchObject({ code: "UNAVAILABLE" });
    } finally {
      await shelfTransport.close();
    }
  });
});
