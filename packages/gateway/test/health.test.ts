/** @module Liveness and readiness, including readiness failing when a routed service is missing. */
import { describe, expect, it } from "vitest";
import { startGateway } from "./support/harness.js";

describe("health", () => {
  it("answers /healthz and /readyz with 200 when every routed service is available", async () => {
    const t = await startGateway();
    try {
      const health = await fetch(`${t.url}/healthz`);
      expect(health.status).toBe(200);
      expect(health.headers.get("x-trace-id")).toMatch(/^[0-9a-f]{32}$/);
      expect(health.headers.get("x-correlation-id")).toBeTruthy();
      expect(await health.json()).toEqual({ status: "ok" });
      const ready = await fetch(`${t.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ok" });
    } finally {
      await t.stop();
    }
  });

  it("answers /readyz with 503 and the missing services when a routed service has no instance", async () => {
    const t = await startGateway({ withGhost: true });
    try {
      const res = await fetch(`${t.url}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: "unavailable", hostReady: true, missing: ["ghost"] });
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      await t.stop();
    }
  });

  it("answers /readyz with 503 once the host stops, while /healthz stays 200", async () => {
    const t = await startGateway();
    try {
      await t.host.stop();
      const res = await fetch(`${t.url}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { hostReady: boolean; missing: string[] };
      expect(body.hostReady).toBe(false);
      expect(body.missing.sort()).toEqual(["catalog", "probe"]);
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});
