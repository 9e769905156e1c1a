/** @module The concurrency ceiling: past maxConcurrentRequests the gateway answers 503 at once, and recovers. */
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { route } from "../src/index.js";
import { errorOf, postJson, startGateway } from "./support/harness.js";
import { probe, reached, started, testRoutes } from "./support/services.js";

const slowRoute = route({ method: "GET", path: "/slow-ok", action: probe.slow, timeoutMs: 10_000 });

describe("load shedding", () => {
  it("serves maxConcurrentRequests at once and sheds the rest with 503, Retry-After and no service call", async () => {
    const t = await startGateway({ maxConcurrentRequests: 5, routes: [slowRoute, ...testRoutes] });
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const res = await fetch(`${t.url}/slow-ok?ms=1000`);
          const body = (await res.json()) as { error?: { code: string } };
          return { status: res.status, retryAfter: res.headers.get("retry-after"), body };
        }),
      );
      const ok = answers.filter((a) => a.status === 200);
      const shed = answers.filter((a) => a.status === 503);
      expect(ok).toHaveLength(5);
      expect(shed).toHaveLength(15);
      for (const a of shed) {
        expect(a.retryAfter).toBe("1");
        expect(a.body.error?.code).toBe("FLOTILLA_GATEWAY_OVERLOADED");
      }
      // Recovered: every slot is free again, so a full batch is served.
      const again = await Promise.all(Array.from({ length: 5 }, () => fetch(`${t.url}/slow-ok?ms=10`)));
      expect(again.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    } finally {
      await t.stop();
    }
  });

  it("sheds before reading the body or calling the service, and keeps health routes answering", async () => {
    const t = await startGateway({
      maxConcurrentRequests: 1,
      routes: [slowRoute, route({ method: "POST", path: "/strict", action: probe.strict }), ...testRoutes],
    });
    try {
      const running = once(started, "slow");
      const busy = fetch(`${t.url}/slow-ok?ms=500`);
      await running;
      const before = reached.strict;
      const shed = await postJson(`${t.url}/strict`, { n: 1 });
      expect(shed.status).toBe(503);
      expect((await errorOf(shed)).code).toBe("FLOTILLA_GATEWAY_OVERLOADED");
      expect(reached.strict).toBe(before);
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
      expect((await busy).status).toBe(200);
      expect((await postJson(`${t.url}/strict`, { n: 1 })).status).toBe(200);
    } finally {
      await t.stop();
    }
  });

  it("keeps the slot of a request whose client left until its call ends", async () => {
    const t = await startGateway({ maxConcurrentRequests: 1, routes: [slowRoute, ...testRoutes] });
    try {
      const abort = new AbortController();
      const running = once(started, "slow");
      const done = once(started, "slow-done");
      const left = fetch(`${t.url}/slow-ok?ms=600`, { signal: abort.signal }).catch(() => "aborted");
      await running;
      abort.abort();
      expect(await left).toBe("aborted");
      // The call still runs, so its slot is still taken.
      expect((await fetch(`${t.url}/api/v1/products/p1`)).status).toBe(503);
      await done;
      // Released once the call ended (a turn or two after its last event).
      await expect.poll(async () => (await fetch(`${t.url}/api/v1/products/p1`)).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});
