/**
 * Many concurrent checkouts with a mix of test cards, addresses and scarce stock, then the books:
 * every order terminal, stock = initial − confirmed units, payments net = confirmed totals.
 */
import { waitFor } from "@flotilla/testing";
import { ADDRESS, CARDS, type Headers, NOWHERE, type OrderView, type ShopClient } from "./shop-client.js";

export interface LoadOptions {
  readonly orders: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Products given little stock, so some orders run out. */
  readonly scarce: readonly { productId: string; stock: number }[];
  readonly plentiful: readonly string[];
  /** How long to wait for every order to end. */
  readonly settleTimeoutMs?: number;
  /**
   * Called once the stock is set, as the orders start (e.g. to kill processes), with the placing of
   * them (settled once every order was answered 202, or one was not); awaited before the books are read.
   */
  readonly meanwhile?: (placing: Promise<void>) => Promise<void>;
}

export interface Books {
  readonly placed: number;
  readonly byStatus: Record<string, number>;
  readonly byReason: Record<string, number>;
  /** Per product: [expected units left, units left]; reserved units left over. */
  readonly stock: { mismatched: string[]; reservedLeft: number; confirmedUnits: number };
  readonly payments: { charged: number; refunded: number; net: number; confirmedTotal: number; cancelledTotal: number };
}

interface Placed {
  readonly id: string;
  readonly kind: "ok" | "declined" | "flaky" | "nowhere";
}

/** Deterministic mix: mostly good cards; some declined, some flaky (retried), some unservable. */
function kindOf(i: number): Placed["kind"] {
  const r = i % 20;
  if (r < 13) return "ok";
  if (r < 16) return "declined";
  if (r < 18) return "flaky";
  return "nowhere";
}

export async function checkoutLoad(
  client: ShopClient,
  buyer: Headers,
  admin: Headers,
  options: LoadOptions,
): Promise<Books> {
  for (const s of options.scarce) await client.setStock(admin, s.productId, s.stock);
  // The catalog takes the new stock and an event carries it to the inventory, which owns it: the books
  // start once the inventory has it (nothing else holds these products, so available = stock).
  let before: Awaited<ReturnType<ShopClient["stock"]>> = new Map();
  await waitFor(
    async () => {
      before = await client.stock(admin);
      return options.scarce.every((s) => before.get(s.productId)?.available === s.stock);
    },
    { timeoutMs: 30_000, intervalMs: 50, what: "the inventory to take the scarce stock" },
  );
  const paymentsBefore = await client.payments(admin);
  const products = [...options.scarce.map((s) => s.productId), ...options.plentiful];
  const placed: Placed[] = [];
  let next = 0;
  const worker = async () => {
    while (next < options.orders) {
      const i = next++;
      const kind = kindOf(i);
      const productId = products[i % products.length] as string;
      const body = {
        items: [{ productId, quantity: 1 + (i % 3) }],
        payment: { card: kind === "declined" ? CARDS.declined : kind === "flaky" ? CARDS.flaky : CARDS.ok },
        shipping: kind === "nowhere" ? NOWHERE : ADDRESS,
      };
      const res = await client.placeOrder(buyer, body, { "idempotency-key": `load-${i}` });
      if (res.status !== 202) throw new Error(`order ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      placed.push({ id: res.body.orderId, kind });
    }
  };
  const load = Promise.all(Array.from({ length: options.concurrency }, worker)).then(() => {});
  await Promise.all([load, options.meanwhile?.(load)]);

  const views: OrderView[] = [];
  for (let i = 0; i < placed.length; i += 50) {
    const batch = placed.slice(i, i + 50);
    views.push(
      ...(await Promise.all(batch.map((p) => client.settled(buyer, p.id, undefined, options.settleTimeoutMs)))),
    );
  }
  const byStatus: Record<string, number> = {};
  const byReason: Record<string, number> = {};
  let confirmedTotal = 0;
  let cancelledTotal = 0;
  const sold = new Map<string, number>();
  for (const v of views) {
    byStatus[v.status] = (byStatus[v.status] ?? 0) + 1;
    if (v.failureReason) byReason[v.failureReason] = (byReason[v.failureReason] ?? 0) + 1;
    if (v.status === "confirmed" || v.status === "shipped") {
      confirmedTotal += v.total;
      for (const item of v.items) sold.set(item.productId, (sold.get(item.productId) ?? 0) + item.quantity);
    }
    // Cancelled after the charge (shipping refused): charged, then refunded in full.
    if (v.status === "cancelled") cancelledTotal += v.total;
  }
  const after = await client.stock(admin);
  const mismatched: string[] = [];
  let reservedLeft = 0;
  for (const [productId, was] of before) {
    const now = after.get(productId);
    const expected = was.available - (sold.get(productId) ?? 0);
    if (now === undefined || now.available !== expected) {
      mismatched.push(`${productId}: expected ${expected}, found ${now?.available}`);
    }
    reservedLeft += now?.reserved ?? 0;
  }
  const paymentsAfter = await client.payments(admin);
  return {
    placed: placed.length,
    byStatus,
    byReason,
    stock: { mismatched, reservedLeft, confirmedUnits: [...sold.values()].reduce((a, b) => a + b, 0) },
    payments: {
      charged: paymentsAfter.charged - paymentsBefore.charged,
      refunded: paymentsAfter.refunded - paymentsBefore.refunded,
      net: paymentsAfter.net - paymentsBefore.net,
      confirmedTotal,
      cancelledTotal,
    },
  };
}
