/**
 * @module The traffic a migration step is watched under: reads of products' reviews and signed-in
 * writes, sent a few at a time, each answer counted by who served it (`flotilla-variant`).
 */
import type { Headers } from "./shop-admin.js";

/** Seeded products, and one the shop does not sell (an empty list, on both sides). */
export const PRODUCTS = [
  "prod-espresso-machine",
  "prod-burr-grinder",
  "prod-french-press",
  "prod-pour-over-kettle",
  "prod-ceramic-mug",
  "prod-tea-sampler",
  "prod-moka-pot",
  "prod-gift-card",
  "prod-no-such-product",
];

/** What the requests of one step got. */
export interface Tally {
  sent: number;
  /** Answers by the variant that served them (`flotilla-variant`; `-` when the answer named none). */
  servedBy: Record<string, number>;
  /** Requests that got no success answer: a connection error or a status other than 200/201. */
  lost: Array<{ method: string; path: string; status: number | string }>;
  /** Reviews created, with who served each. */
  created: Array<{ id: string; productId: string; variant: string }>;
}

/** Requests in flight at once: below the gateway's bound on shadow calls (16), so few are dropped. */
const CONCURRENCY = 4;

export class TrafficDriver {
  private tally: Tally = emptyTally();

  constructor(
    private readonly url: string,
    private readonly user: Headers,
  ) {}

  /** The counts since the last `take()`, and a fresh count from now. */
  take(): Tally {
    const tally = this.tally;
    this.tally = emptyTally();
    return tally;
  }

  /** `count` reads, spread over the products. */
  reads(count: number): Promise<void> {
    return this.run(count, async (i) => {
      const productId = PRODUCTS[i % PRODUCTS.length] as string;
      await this.send("GET", `/api/v1/products/${productId}/reviews`);
    });
  }

  /** `count` reviews by the signed-in user, spread over the products. */
  writes(count: number, label: string): Promise<void> {
    return this.run(count, async (i) => {
      const productId = PRODUCTS[(i * 3) % (PRODUCTS.length - 1)] as string;
      const review = { rating: (i % 5) + 1, body: `${label}: review ${i + 1}` };
      const answer = await this.send("POST", `/api/v1/products/${productId}/reviews`, review);
      if (answer?.status === 201) {
        this.tally.created.push({ id: (answer.body as { id: string }).id, productId, variant: answer.variant });
      }
    });
  }

  /** Whether each review created in `tally` is listed now with its product. */
  async missingReviews(tally: Tally): Promise<string[]> {
    const missing: string[] = [];
    for (const { id, productId } of tally.created) {
      const res = await fetch(`${this.url}/api/v1/products/${productId}/reviews`, { headers: this.user });
      const listed = (await res.json()) as { items?: Array<{ id: string }> };
      if (!listed.items?.some((r) => r.id === id)) missing.push(id);
    }
    return missing;
  }

  private async run(count: number, one: (i: number) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < count) await one(next++);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  }

  private async send(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown; variant: string } | undefined> {
    this.tally.sent++;
    for (;;) {
      let res: Response;
      try {
        res = await fetch(`${this.url}${path}`, {
          method,
          headers: { ...this.user, ...(body === undefined ? {} : { "content-type": "application/json" }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (err) {
        this.tally.lost.push({ method, path, status: (err as Error).message });
        return undefined;
      }
      // A client that waits as told gets through: a rate limit delays a request, it does not lose it.
      if (res.status === 429) {
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get("retry-after") ?? 1)));
        continue;
      }
      // Writes are not split: their answers name no variant, and are not counted by one.
      const variant = res.headers.get("flotilla-variant") ?? "-";
      if (variant !== "-") this.tally.servedBy[variant] = (this.tally.servedBy[variant] ?? 0) + 1;
      const answer = { status: res.status, body: await res.json().catch(() => undefined), variant };
      if (res.status !== 200 && res.status !== 201) this.tally.lost.push({ method, path, status: res.status });
      return answer;
    }
  }
}

function emptyTally(): Tally {
  return { sent: 0, servedBy: {}, lost: [], created: [] };
}
