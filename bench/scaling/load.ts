/**
 * @module The scaling load test's client: an open loop that starts requests on schedule (so a slow
 * system sees the load pile up, as real users would make it), on the shop's browse routes and checkout.
 */
import { randomUUID } from "node:crypto";
import { demoProducts } from "../../examples/shop/src/services/catalog/seed.js";
import type { Phase } from "./phases.js";

/** One request's outcome; `status` 0 is a network error or a timeout. */
export interface Sample {
  readonly phase: string;
  readonly kind: "browse" | "checkout";
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: number;
  readonly ok: boolean;
}

export interface LoadRun {
  readonly samples: Sample[];
  /** Requests not started because `maxOpen` were already open, per phase. */
  readonly skipped: Map<string, number>;
  /** When each phase started. */
  readonly phaseStarts: Map<string, number>;
}

export interface LoadOptions {
  readonly gatewayUrl: string;
  readonly phases: readonly Phase[];
  readonly checkoutEvery: number;
  readonly maxOpen: number;
  /** Called as each phase starts. */
  onPhase?(phase: Phase): void;
}

const TIMEOUT_MS = 10_000;
const ids = demoProducts.map((p) => p.id);

/** Signs in as the demo customer: checkouts need a user. */
export async function signIn(gatewayUrl: string): Promise<string> {
  const res = await fetch(`${gatewayUrl}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "demo@flotilla.dev", password: "demo-password" }),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 200 || body.token === undefined) throw new Error(`sign-in failed: ${res.status}`);
  return `Bearer ${body.token}`;
}

/** Runs the phases one after the other; resolves once every request started has been answered. */
export async function runLoad(options: LoadOptions, authorization: string): Promise<LoadRun> {
  const run: LoadRun = { samples: [], skipped: new Map(), phaseStarts: new Map() };
  const open = new Set<Promise<void>>();
  let seq = 0;
  for (const phase of options.phases) {
    options.onPhase?.(phase);
    const start = Date.now();
    run.phaseStarts.set(phase.name, start);
    let started = 0;
    while (Date.now() - start < phase.ms) {
      const due = Math.floor(((Date.now() - start) / 1000) * phase.rps);
      for (; started < due; started++) {
        if (open.size >= options.maxOpen) {
          run.skipped.set(phase.name, (run.skipped.get(phase.name) ?? 0) + 1);
          continue;
        }
        const checkout = ++seq % options.checkoutEvery === 0;
        const request = send(options.gatewayUrl, phase.name, checkout, seq, authorization).then((sample) => {
          run.samples.push(sample);
          open.delete(request);
        });
        open.add(request);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  await Promise.all(open);
  return run;
}

async function send(base: string, phase: string, checkout: boolean, seq: number, authorization: string) {
  const startedAt = Date.now();
  let status = 0;
  try {
    const res = checkout
      ? await fetch(`${base}/api/v1/orders`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization, "idempotency-key": randomUUID() },
          body: JSON.stringify({
            items: [{ productId: ids[seq % ids.length], quantity: 1 }],
            payment: { card: "4242424242424242" },
            shipping: { name: "Load Test", street: "1 Bench Road", city: "Basel", country: "CH" },
          }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        })
      : await fetch(
          seq % 2 === 0 ? `${base}/api/v1/products?limit=3` : `${base}/api/v1/products/${ids[seq % ids.length]}`,
          { signal: AbortSignal.timeout(TIMEOUT_MS) },
        );
    await res.arrayBuffer();
    status = res.status;
  } catch {
    status = 0;
  }
  const ok = checkout ? status === 202 : status === 200;
  return { phase, kind: checkout ? "checkout" : "browse", startedAt, endedAt: Date.now(), status, ok } as Sample;
}
