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

export interface ShopClientOptions {
  /**
   * Send a request again, unchanged (its Idempotency-Key included), while the answer is transient: no
   * answer at all (connection refused or reset, or none within `requestTimeoutMs`), 502, 503 or 504.
   * For a shop whose processes are killed and restarted under the test; absent, the first answer is
   * returned, whatever it is.
   */
  readonly retryTransient?: { readonly forMs: number; readonly requestTimeoutMs?: number };
}

/** Answers worth sending the same request again for: the shop (or part of it) is restarting. */
const TRANSIENT = new Set([0, 502, 503, 504]);

export class ShopClient {
  /** Requests sent again after a transient answer (with `retryTransient`), by status (0: no answer). */
  readonly retried = new Map<number, number>();

  constructor(
    readonly url: string,
    readonly options: ShopClientOptions = {},
  ) {}

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
    const retry = this.options.retryTransient;
    const giveUpAt = retry === undefined ? 0 : Date.now() + retry.forMs;
    for (let attempt = 0, transient = 0; ; attempt++) {
      const init: RequestInit = {
        method,
        headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      };
      let res: Response;
      let text: string;
      try {
        if (retry?.requestTimeoutMs !== undefined) init.signal = AbortSignal.timeout(retry.requestTimeoutMs);
        res = await fetch(`${this.url}${path}`, init);
        text = await res.text();
      } catch (err) {
        if (retry === undefined || Date.now() > giveUpAt) throw err;
        await this.again(0, transient++);
        continue;
      }
      // A client that waits as told gets through (SHOP-API.md); tests set limits high, but stay polite.
      if (res.status === 429 && attempt < 20) {
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get("retry-after") ?? 1)));
        continue;
      }
      if (retry !== undefined && TRANSIENT.has(res.status) && Date.now() <= giveUpAt) {
        await this.again(res.status, transient++);
        continue;
      }
      return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
    }
  }

  /** Counts a transient answer and waits before the next attempt: 50 ms, doubling up to 1 s, with jitter. */
  private again(status: number, transient: number): Promise<void> {
    this.retried.set(status, (this.retried.get(status) ?? 0) + 1);
    const ms = Math.min(1_000, 50 * 2 ** Math.min(transient, 5)) * (0.5 + Math.random() / 2);
    return new Promise((r) => setTimeout(r, ms));
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
    try {
      await waitFor(
        async () => {
          last = await this.order(auth, id);
          return statuses.has(last.status);
        },
        { timeoutMs, intervalMs: 50, what: `order ${id} to reach ${[...statuses].join("/")}` },
      );
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)} (last seen: ${last?.status})`);
    }
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
