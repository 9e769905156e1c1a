/** A small HTTP client of the shop's public API, as SHOP-API.md describes it, for end-to-end tests. */
import { waitFor } from "@flotilla/testing";

export type Headers = Record<string, string>;

/** An answer's JSON, loosely typed: tests read what SHOP-API.md says is there and assert on it. */
// biome-ignore lint/suspicious/noExplicitAny: test code reading JSON whose shape the assertions check
export type Json = any;

export interface OrderView {
  id: string;
  status: "pending" | "confirmed" | "rejected" | "cancelled" | "shipped";
  total: number;
  failureReason?: string;
  items: { productId: string; quantity: number }[];
}

export const TERMINAL = new Set(["confirmed", "rejected", "cancelled", "shipped"]);

export class ShopClient {
  constructor(readonly url: string) {}

  async signIn(email: string, password: string): Promise<Headers> {
    const res = await fetch(`${this.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    if (res.status !== 200) throw new Error(`sign-in as ${email}: ${res.status} ${await res.text()}`);
    const { token } = (await res.json()) as { token: string };
    return { authorization: `Bearer ${token}` };
  }

  async send(method: string, path: string, auth: Headers, body?: unknown): Promise<{ status: number; body: Json }> {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${this.url}${path}`, {
        method,
        headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      // A client that waits as told gets through (SHOP-API.md); tests set limits high, but stay polite.
      if (res.status === 429 && attempt < 20) {
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get("retry-after") ?? 1)));
        continue;
      }
      return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
    }
  }

  async placeOrder(auth: Headers, body: unknown, headers: Headers = {}): Promise<{ status: number; body: Json }> {
    return this.send("POST", "/api/v1/orders", { ...auth, ...headers }, body);
  }

  async order(auth: Headers, id: string): Promise<OrderView> {
    const res = await this.send("GET", `/api/v1/orders/${id}`, auth);
    if (res.status !== 200) throw new Error(`order ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as OrderView;
  }

  /** Polls until the order reaches one of `statuses` (default: any terminal one). */
  async settled(auth: Headers, id: string, statuses = TERMINAL, timeoutMs = 30_000): Promise<OrderView> {
    let last: OrderView | undefined;
    await waitFor(
      async () => {
        last = await this.order(auth, id);
        return statuses.has(last.status);
      },
      { timeoutMs, intervalMs: 50, what: `order ${id} to reach ${[...statuses].join("/")} (last: ${last?.status})` },
    );
    return last as OrderView;
  }

  async stock(admin: Headers): Promise<Map<string, { available: number; reserved: number }>> {
    const res = await this.send("GET", "/api/v1/admin/inventory", admin);
    if (res.status !== 200) throw new Error(`inventory: ${res.status} ${JSON.stringify(res.body)}`);
    const items = res.body.items as { productId: string; available: number; reserved: number }[];
    return new Map(items.map((i) => [i.productId, { available: i.available, reserved: i.reserved }]));
  }

  async payments(admin: Headers): Promise<{ charged: number; refunded: number; net: number }> {
    const res = await this.send("GET", "/api/v1/admin/payments/summary", admin);
    if (res.status !== 200) throw new Error(`payments: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async setStock(admin: Headers, productId: string, stock: number): Promise<void> {
    const res = await this.send("PATCH", `/api/v1/admin/products/${productId}`, admin, { stock });
    if (res.status !== 200) throw new Error(`set stock: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

export const CARDS = { ok: "4242424242424242", declined: "4000000000000002", flaky: "4000000000000119" } as const;

export const ADDRESS = { name: "Ada Lovelace", street: "12 St James's Square", city: "London", country: "GB" };
export const NOWHERE = { ...ADDRESS, country: "ZZ" };
