import { action, defineContract, defineService, event, type OrchestratorDefinition } from "@flotilla/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { optionsFromUrl } from "../src/options.js";
import { natsPermissions } from "../src/permissions.js";
import { natsServerConfig, natsUsers, natsUserUrl } from "../src/permissions-config.js";

const Empty = z.object({});
const shelf = defineContract({
  service: "shelf",
  actions: { getItem: action({ input: Empty, output: Empty }), dropItem: action({ input: Empty, output: Empty }) },
  events: { ItemAdded: event({ schema: Empty }) },
});
const till = defineContract({
  service: "till",
  actions: { pay: action({ input: Empty, output: Empty }), refund: action({ input: Empty, output: Empty }) },
});
const buyer = defineContract({ service: "buyer", events: { Bought: event({ schema: Empty }) } });

const shelfService = defineService(shelf, { calls: [], actions: { getItem: () => ({}), dropItem: () => ({}) } });
const tills: OrchestratorDefinition = {
  kind: "orchestrator",
  name: "checkout",
  calls: [till.pay, till.refund],
  attach: async () => ({ settle: async () => {} }),
};
const buyerService = defineService(buyer, {
  calls: [shelf.getItem],
  actions: {},
  orchestrators: [tills],
  subscriptions: {
    restock: { event: shelf.ItemAdded, handle: async () => {} },
    refresh: { event: shelf.ItemAdded, broadcast: true, handle: async () => {} },
  },
});

describe("natsPermissions", () => {
  it("allows a serving service its events, its actions, its instances' subjects and discovery", () => {
    expect(natsPermissions([shelfService])).toEqual({
      publish: {
        allow: [
          "flotilla.evt.shelf.>",
          "$JS.API.STREAM.INFO.FLOTILLA_EVT_SHELF",
          "$JS.API.STREAM.CREATE.FLOTILLA_EVT_SHELF",
          "flotilla.rpc.shelf.*",
          "flotilla.inst.*.shelf.*",
        ],
      },
      subscribe: {
        allow: [
          "_INBOX.>",
          "flotilla.rpc.shelf.> shelf",
          "flotilla.inst.*.shelf.>",
          "$SRV.*",
          "$SRV.*.shelf",
          "$SRV.*.shelf.*",
        ],
      },
      allow_responses: true,
    });
  });

  it("allows a consumer its calls, its saga's targets, its durable and its broadcast readers", () => {
    expect(natsPermissions([buyerService], { inboxPrefix: "_INBOX_buyer" })).toEqual({
      publish: {
        allow: [
          "flotilla.evt.buyer.>",
          "$JS.API.STREAM.INFO.FLOTILLA_EVT_BUYER",
          "$JS.API.STREAM.CREATE.FLOTILLA_EVT_BUYER",
          "flotilla.rpc.shelf.getItem",
          "flotilla.inst.*.shelf.getItem",
          "flotilla.rpc.shelf.$ping",
          "flotilla.rpc.till.pay",
          "flotilla.inst.*.till.pay",
          "flotilla.rpc.till.$ping",
          "flotilla.rpc.till.refund",
          "flotilla.inst.*.till.refund",
          "$JS.API.STREAM.INFO.FLOTILLA_EVT_SHELF",
          "$JS.API.STREAM.CREATE.FLOTILLA_EVT_SHELF",
          "$JS.API.CONSUMER.INFO.FLOTILLA_EVT_SHELF.buyer_restock",
          "$JS.API.CONSUMER.CREATE.FLOTILLA_EVT_SHELF.buyer_restock.flotilla.evt.shelf.ItemAdded",
          "$JS.API.CONSUMER.MSG.NEXT.FLOTILLA_EVT_SHELF.buyer_restock",
          "$JS.ACK.FLOTILLA_EVT_SHELF.buyer_restock.>",
          "flotilla.dlq.buyer.restock",
          "$JS.API.STREAM.INFO.FLOTILLA_DLQ",
          "$JS.API.STREAM.CREATE.FLOTILLA_DLQ",
          "$JS.API.CONSUMER.CREATE.FLOTILLA_EVT_SHELF.*.flotilla.evt.shelf.ItemAdded",
          "$JS.API.CONSUMER.INFO.FLOTILLA_EVT_SHELF.*",
          "$JS.API.CONSUMER.MSG.NEXT.FLOTILLA_EVT_SHELF.*",
          "$JS.API.CONSUMER.DELETE.FLOTILLA_EVT_SHELF.*",
          "$JS.ACK.FLOTILLA_EVT_SHELF.*.>",
          "flotilla.dlq.*",
        ],
      },
      subscribe: { allow: ["_INBOX_buyer.>"] },
      allow_responses: true,
    });
  });

  it("gives a group the union of its services and a gateway its calls and followed events", () => {
    const gateway = { calls: ["shelf.dropItem"], events: ["buyer.Bought"] };
    const group = natsPermissions([shelfService, buyerService], { gateway });
    const each = [natsPermissions([shelfService]), natsPermissions([buyerService])];
    for (const one of each) {
      expect(group.publish.allow).toEqual(expect.arrayContaining([...one.publish.allow]));
      expect(group.subscribe.allow).toEqual(expect.arrayContaining([...one.subscribe.allow]));
    }
    const extra = group.publish.allow.filter((s) => !each.some((one) => one.publish.allow.includes(s)));
    expect(extra).toEqual([
      "flotilla.rpc.shelf.dropItem",
      "flotilla.inst.*.shelf.dropItem",
      "$JS.API.CONSUMER.CREATE.FLOTILLA_EVT_BUYER.*.flotilla.evt.buyer.Bought",
      "$JS.API.CONSUMER.INFO.FLOTILLA_EVT_BUYER.*",
      "$JS.API.CONSUMER.MSG.NEXT.FLOTILLA_EVT_BUYER.*",
      "$JS.API.CONSUMER.DELETE.FLOTILLA_EVT_BUYER.*",
      "$JS.ACK.FLOTILLA_EVT_BUYER.*.>",
    ]);
  });

  it("lets a unit on the KV registry put its own instances' keys and watch the bucket", () => {
    const plain = natsPermissions([shelfService]).publish.allow;
    const withRegistry = natsPermissions([shelfService], { registryBucket: "reg" }).publish.allow;
    expect(withRegistry.filter((s) => !plain.includes(s))).toEqual([
      "$JS.API.INFO",
      "$JS.API.STREAM.INFO.KV_reg",
      "$JS.API.STREAM.CREATE.KV_reg",
      "$KV.reg.shelf.*",
      "$JS.API.CONSUMER.CREATE.KV_reg.*.$KV.reg.>",
      "$JS.API.CONSUMER.INFO.KV_reg.*",
      "$JS.API.CONSUMER.DELETE.KV_reg.*",
      "$JS.FC.KV_reg.>",
    ]);
  });

  it("refuses a service that does not declare its calls", () => {
    const undeclared = defineService(till, { actions: { pay: () => ({}), refund: () => ({}) } });
    expect(() => natsPermissions([shelfService, undeclared])).toThrow(
      expect.objectContaining({ code: "FLOTILLA_CONFIG", message: expect.stringContaining("till does not declare") }),
    );
  });
});

describe("natsUsers and natsServerConfig", () => {
  it("makes one user per unit with its own password and inbox, and a URL that carries both", () => {
    const users = natsUsers([
      { name: "shelf", services: [shelfService] },
      { name: "edge", services: [], gateway: { calls: ["shelf.getItem"], events: [] } },
    ]);
    expect(users.map((u) => [u.user, u.inboxPrefix])).toEqual([
      ["shelf", "_INBOX_shelf"],
      ["edge", "_INBOX_edge"],
    ]);
    expect(users[0]?.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(users[0]?.password).not.toBe(users[1]?.password);
    expect(users[1]?.permissions.subscribe.allow).toEqual(["_INBOX_edge.>"]);
    const url = new URL(natsUserUrl(users[0]!, "nats.internal:4222"));
    expect([url.username, decodeURIComponent(url.password), url.host, url.searchParams.get("inboxPrefix")]).toEqual([
      "shelf",
      users[0]?.password,
      "nats.internal:4222",
      "_INBOX_shelf",
    ]);
    const config = natsServerConfig(users, { port: 4333 });
    expect(config).toContain("port: 4333\njetstream: enabled\n");
    expect(config).toContain(`"password": "${users[1]?.password}"`);
  });

  it("reads the inbox prefix from a transport URL, and refuses one with wildcards or empty tokens", () => {
    expect(optionsFromUrl(new URL("nats://u:p@h:4222?inboxPrefix=_INBOX_u")).inboxPrefix).toBe("_INBOX_u");
    for (const bad of ["_INBOX.*", "a..b", "_INBOX.>", ""]) {
      expect(() => optionsFromUrl(new URL(`nats://h:4222?inboxPrefix=${encodeURIComponent(bad)}`))).toThrow(
        expect.objectContaining({ code: "FLOTILLA_CONFIG" }),
      );
    }
  });

  it("refuses unit names a user name cannot hold, and a name given twice", () => {
    expect(() => natsUsers([{ name: "a b", services: [] }])).toThrow(
      expect.objectContaining({ code: "FLOTILLA_CONFIG" }),
    );
    expect(() =>
      natsUsers([
        { name: "a", services: [] },
        { name: "a", services: [] },
      ]),
    ).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG", message: 'unit "a" is named twice' }));
  });
});
