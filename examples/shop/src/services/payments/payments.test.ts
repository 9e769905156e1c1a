import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, defineContract, defineService, type Host } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { payments } from "./contract.js";
import { SimulatedCardProvider, TEST_CARDS } from "./provider.js";
import { createPaymentsService } from "./service.js";

type Seen = { type: string; data: { paymentId: string } };
const seen: Seen[] = [];
const observer = defineService(defineContract({ service: "payments-observer" }), {
  actions: {},
  subscriptions: Object.fromEntries(
    [payments.PaymentCharged, payments.PaymentFailed, payments.PaymentRefunded].map((ref) => [
      ref.type,
      {
        event: ref,
        handle: async (data: Seen["data"]) => {
          seen.push({ type: ref.type, data });
        },
      },
    ]),
  ),
});
const eventsOf = (paymentId: string) =>
  seen.filter((e) => e.data.paymentId === paymentId).map((e) => e.type.replace("payments.", ""));

async function startHost(provider: SimulatedCardProvider, dataDir = ":memory:"): Promise<Host> {
  const host = createHost({
    services: [createPaymentsService({ provider }), observer],
    resources: [sqliteDatabases({ dataDir })],
    transport: "memory://?faithful=1",
    validateOutput: true,
  });
  await host.start();
  return host;
}

const order = (paymentId: string, card: string, amount = 1_000, currency = "EUR") => ({
  paymentId,
  orderId: `order-of-${paymentId}`,
  customerId: "user-1",
  amount,
  currency,
  card,
});

describe("payments service", () => {
  // Some latency, so that racing calls really overlap at the provider.
  const provider = new SimulatedCardProvider({ latencyMs: 20 });
  let host: Host;
  beforeAll(async () => {
    host = await startHost(provider);
  });
  afterAll(() => host.stop());

  it("charges a card once; a repeat answers from the stored payment without calling the provider", async () => {
    const first = await host.call(payments.charge, order("p-ok", TEST_CARDS.succeeds, 2_490));
    expect(first).toEqual({ paymentId: "p-ok", status: "charged", last4: "4242" });
    expect(await host.call(payments.charge, order("p-ok", TEST_CARDS.succeeds, 2_490))).toEqual(first);
    expect(provider.callsFor("p-ok")).toBe(1);
    expect(provider.held("p-ok")).toBe(2_490);
    await expect.poll(() => eventsOf("p-ok")).toEqual(["PaymentCharged"]);
    // Any other card the contract accepts is charged too.
    expect(await host.call(payments.charge, order("p-other", "5555555555554444"))).toMatchObject({ last4: "4444" });
  });

  it("declines the declined test card, every time, and refunds nothing for it", async () => {
    for (let i = 0; i < 2; i++) {
      await expect(host.call(payments.charge, order("p-declined", TEST_CARDS.declined))).rejects.toMatchObject({
        code: "CARD_DECLINED",
        status: "FAILED_PRECONDITION",
        details: { paymentId: "p-declined" },
      });
    }
    expect(provider.callsFor("p-declined")).toBe(1);
    expect(await host.call(payments.refund, { paymentId: "p-declined" })).toEqual({ refunded: false, charged: false });
    await expect.poll(() => eventsOf("p-declined")).toEqual(["PaymentFailed"]);
  });

  it("reports the provider unavailable on a first attempt, retryably, and charges on the next", async () => {
    for (const id of ["p-flaky-1", "p-flaky-2"]) {
      await expect(host.call(payments.charge, order(id, TEST_CARDS.unavailableOnce))).rejects.toMatchObject({
        code: "PROVIDER_UNAVAILABLE",
        status: "UNAVAILABLE",
      });
      expect(provider.held(id)).toBe(0);
      expect(await host.call(payments.charge, order(id, TEST_CARDS.unavailableOnce))).toMatchObject({
        status: "charged",
        last4: "0119",
      });
      expect(provider.held(id)).toBe(1_000);
    }
  });

  it("charges once when the same charge races itself", async () => {
    const answers = await Promise.all(
      [1, 2, 3].map(() => host.call(payments.charge, order("p-race", TEST_CARDS.succeeds))),
    );
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(provider.held("p-race")).toBe(1_000);
    await expect.poll(() => eventsOf("p-race")).toEqual(["PaymentCharged"]);
    await new Promise((r) => setTimeout(r, 100));
    expect(eventsOf("p-race")).toEqual(["PaymentCharged"]);
  });

  it("refunds a charge once, even when refunds race, and refuses a charge after it", async () => {
    await host.call(payments.charge, order("p-refund", TEST_CARDS.succeeds));
    const refunds = await Promise.all([1, 2, 3].map(() => host.call(payments.refund, { paymentId: "p-refund" })));
    expect(refunds.filter((r) => r.refunded)).toHaveLength(1);
    expect(refunds.every((r) => r.charged)).toBe(true); // the same answer to every refund of a charge
    expect(await host.call(payments.refund, { paymentId: "p-refund" })).toEqual({ refunded: false, charged: true });
    expect(provider.held("p-refund")).toBe(0);
    await expect(host.call(payments.charge, order("p-refund", TEST_CARDS.succeeds))).rejects.toMatchObject({
      code: "PAYMENT_CANCELLED",
      status: "FAILED_PRECONDITION",
    });
    await expect.poll(() => eventsOf("p-refund")).toEqual(["PaymentCharged", "PaymentRefunded"]);
  });

  it("remembers a refund that came before its charge, and refuses the late charge", async () => {
    expect(await host.call(payments.refund, { paymentId: "p-early" })).toEqual({ refunded: false, charged: false });
    await expect(host.call(payments.charge, order("p-early", TEST_CARDS.succeeds))).rejects.toMatchObject({
      code: "PAYMENT_CANCELLED",
    });
    expect(provider.held("p-early")).toBe(0);
    expect(eventsOf("p-early")).toEqual([]);
  });

  it("gives back what a charge took at the provider when its refund overtook it", async () => {
    // The charge is at the provider (20 ms) while the refund, finding nothing, leaves its tombstone.
    const charging = host.call(payments.charge, order("p-overtaken", TEST_CARDS.succeeds));
    await new Promise((r) => setTimeout(r, 5));
    expect(await host.call(payments.refund, { paymentId: "p-overtaken" })).toEqual({ refunded: false, charged: false });
    await expect(charging).rejects.toMatchObject({ code: "PAYMENT_CANCELLED" });
    expect(provider.held("p-overtaken")).toBe(0);
    expect(eventsOf("p-overtaken")).toEqual([]);
  });

  it("needs no caller and rejects malformed cards at the boundary", async () => {
    await expect(host.call(payments.charge, order("p-bad", "4242-4242"))).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    expect(provider.callsFor("p-bad")).toBe(0);
  });
});

describe("payments summary", () => {
  it("sums charged (refunded ones included), refunded and net in EUR, leaving other currencies out", async () => {
    const host = await startHost(new SimulatedCardProvider());
    try {
      expect(await host.call(payments.summary, {})).toEqual({ charged: 0, refunded: 0, net: 0, currency: "EUR" });
      await host.call(payments.charge, order("s-1", TEST_CARDS.succeeds, 1_000));
      await host.call(payments.charge, order("s-2", TEST_CARDS.succeeds, 2_500));
      await host.call(payments.charge, order("s-3", "5555555555554444", 700, "eur"));
      await host.call(payments.charge, order("s-usd", TEST_CARDS.succeeds, 999, "USD"));
      await host.call(payments.charge, order("s-declined", TEST_CARDS.declined, 5_000)).catch(() => undefined);
      await host.call(payments.refund, { paymentId: "s-2" });
      await host.call(payments.refund, { paymentId: "s-unknown" });
      expect(await host.call(payments.summary, {})).toEqual({
        charged: 4_200,
        refunded: 2_500,
        net: 1_700,
        currency: "EUR",
      });
    } finally {
      await host.stop();
    }
  });
});

describe("payments storage", () => {
  it("keeps the last four digits of a card and never the number, in any table or file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shop-payments-"));
    try {
      const host = await startHost(new SimulatedCardProvider(), dir);
      const cards = [TEST_CARDS.succeeds, TEST_CARDS.declined, "5555555555554444", "378282246310005"];
      await Promise.allSettled(cards.map((card, i) => host.call(payments.charge, order(`c-${i}`, card))));
      await host.call(payments.refund, { paymentId: "c-0" });
      const db = new Database(join(dir, "payments.sqlite"), { readonly: true });
      try {
        const rows = db.prepare("select id, last4, status from payments order by id").all();
        expect(rows).toEqual([
          { id: "c-0", last4: "4242", status: "refunded" },
          { id: "c-1", last4: "0002", status: "declined" },
          { id: "c-2", last4: "4444", status: "charged" },
          { id: "c-3", last4: "0005", status: "charged" },
        ]);
      } finally {
        db.close();
      }
      await host.stop();
      // Every byte of the service's files: tables, outbox and inbox, WAL included.
      const files = (await readdir(dir)).filter((f) => f.startsWith("payments.sqlite"));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const bytes = (await readFile(join(dir, file))).toString("latin1");
        for (const card of cards) expect(bytes.includes(card), `${card} in ${file}`).toBe(false);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("waits SHOP_PAYMENT_LATENCY_MS at the simulated provider", async () => {
    vi.stubEnv("SHOP_PAYMENT_LATENCY_MS", "60");
    try {
      const provider = new SimulatedCardProvider();
      const started = performance.now();
      await provider.charge({ paymentId: "l-1", card: TEST_CARDS.succeeds, amount: 1, currency: "EUR" });
      expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
