import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createHost,
  createLogger,
  defineContract,
  defineService,
  type EventEnvelope,
  type ResourceSpec,
} from "@flotilla/core";
import { databaseProvider, type Kysely, rebuildProjection, sqliteDatabases } from "@flotilla/data";
import { afterAll, describe, expect, it } from "vitest";
import { eventSource } from "../../../test/support/event-source.js";
import { orders } from "../orders/contract.js";
import { recommendations } from "./contract.js";
import type { RecommendationsTables } from "./schema.js";
import { recommendationsService } from "./service.js";

const log = createLogger({ level: "silent", name: "test" });
const dir = mkdtempSync(join(tmpdir(), "shop-recommendations-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Keeps every OrderConfirmed as it travelled: the history a rebuild reads. */
const history: EventEnvelope[] = [];
const recorder = defineService(defineContract({ service: "recorder" }), {
  actions: {},
  subscriptions: {
    confirmed: {
      event: orders.OrderConfirmed,
      handle: async (_data, _ctx, { envelope }) => {
        history.push(envelope);
      },
    },
  },
});

const customers = ["alice", "bob", "carol", "newcomer"];
const baskets: Array<[string, string[]]> = [
  ["alice", ["espresso", "grinder"]],
  ["bob", ["espresso", "tamper"]],
  ["bob", ["grinder", "mug"]],
  ["carol", ["grinder", "tamper", "tea"]],
];

/** Customers holding both: espresso+tamper 1, grinder+tamper 2, espresso+mug 1, grinder+mug 1, grinder+tea 1. */
const aliceExpected = {
  items: [
    { productId: "tamper", score: 3 },
    { productId: "mug", score: 2 },
    { productId: "tea", score: 1 },
  ],
  basis: "history",
};

function startHost(services = [recommendationsService]) {
  return createHost({
    services,
    resources: [sqliteDatabases({ dataDir: dir })],
    transport: "memory://?faithful=1",
    validateOutput: true,
  });
}

describe("recommendations: the bought-together read model", () => {
  it("is rebuilt from the event history to the same answers", async () => {
    const source = eventSource("orders");
    const live = startHost([source.service, recommendationsService, recorder]);
    await live.start();
    for (const [i, [customerId, products]] of baskets.entries()) {
      const items = products.map((productId) => ({ productId, quantity: 1, name: productId, unitPrice: 100 }));
      await source.emit(live, orders.OrderConfirmed, {
        orderId: `order-${i}`,
        customerId,
        items,
        total: 100 * items.length,
        currency: "EUR",
      });
    }
    await expect.poll(() => history.length).toBe(baskets.length);
    const answers = () =>
      Promise.all(
        customers.map((subject) => live.call(recommendations.forMe, {}, { caller: { subject, roles: ["customer"] } })),
      );
    // Alice's answer draws on all four orders: once it is complete, every one was applied.
    await expect.poll(async () => (await answers())[0]).toEqual(aliceExpected);
    const before = await answers();
    await live.stop();

    // Opened beside the (stopped) service as `flotilla replay` does; the read model damaged first.
    const owner = { service: "recommendations", instance: "rebuild-test", log, transport: { send: async () => {} } };
    const handle = await databaseProvider(`sqlite:${dir}`, { relay: false }).open(
      recommendationsService.database as ResourceSpec,
      owner as never,
    );
    const db = handle.value as Kysely<RecommendationsTables>;
    try {
      await db.deleteFrom("co_purchases").execute();
      await db.updateTable("product_popularity").set({ units: 1000 }).execute();
      const result = await rebuildProjection({
        db: db as Kysely<unknown>,
        service: recommendationsService,
        projection: "bought-together",
        history: async () => ({
          total: history.length,
          async *[Symbol.asyncIterator]() {
            yield* history;
          },
        }),
        log,
      });
      expect(result).toMatchObject({ read: baskets.length, applied: baskets.length });
    } finally {
      await handle.close();
    }

    const rebuilt = startHost();
    await rebuilt.start();
    try {
      const after = await Promise.all(
        customers.map((subject) =>
          rebuilt.call(recommendations.forMe, {}, { caller: { subject, roles: ["customer"] } }),
        ),
      );
      expect(after).toEqual(before);
      expect(after[0]).toEqual(aliceExpected);
    } finally {
      await rebuilt.stop();
    }
  });
});
