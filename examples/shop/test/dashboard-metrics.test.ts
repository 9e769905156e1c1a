/**
 * The dashboard's Metrics and scaling view over real HTTP: the embedded shop's RED figures after real
 * traffic (exact counts and ratios), the `metrics` topic; and a dashboard linked to `flotilla up`'s
 * supervisor (a small fixture app): scale and restart through the dashboard, the supervisor's instance
 * count changing, the decision listed, refusals with the supervisor's codes, each action audited.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningApp, runApp } from "@flotilla/app";
import { createLogger, MemoryRegistry } from "@flotilla/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEntry, DashboardContext } from "../../../packages/app/src/dashboard/dashboard-context.js";
import type { RedSeriesView } from "../../../packages/app/src/dashboard/metrics-history.js";
import { metricsPanel } from "../../../packages/app/src/dashboard/metrics-panel.js";
import type { MetricsView } from "../../../packages/app/src/dashboard/metrics-sampler.js";
import type { ScalingView } from "../../../packages/app/src/dashboard/supervisor-scaling.js";
import shopApp from "../src/app.js";
import { type LinkedSupervisor, linkedSupervisor } from "./support/linked-supervisor.js";
import { type Headers, ShopClient } from "./support/shop-client.js";

type Metrics = MetricsView & { supervisor: boolean };

async function getJson<T>(url: string, auth: Headers): Promise<T> {
  const res = await fetch(url, { headers: auth });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A POST's answer: the decision of a scale, or the gateway's error body. */
interface Answer {
  decision: { unit: string; from: number; to: number; signal: string; reason: string };
  error: { code: string };
}

async function post(url: string, auth: Headers, body: unknown): Promise<{ status: number; body: Answer }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer };
}

/** The first `event: <topic>` of the dashboard's event stream, parsed. */
async function firstEvent<T>(url: string, auth: Headers, topic: string): Promise<T> {
  const stop = new AbortController();
  const res = await fetch(`${url}/_flotilla/api/events?topics=${topic}`, { headers: auth, signal: stop.signal });
  const decoder = new TextDecoder();
  let text = "";
  try {
    for await (const chunk of res.body as ReadableStream<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      const match = new RegExp(`event: ${topic}\\ndata: ([^\\n]*)\\n\\n`).exec(text);
      if (match) return JSON.parse(match[1] as string) as T;
    }
  } finally {
    stop.abort();
  }
  throw new Error(`the stream ended before an event ${topic}: ${text}`);
}

describe("the Metrics view's API on the embedded shop", () => {
  let shop: RunningApp;
  let dataDir: string;
  let url: string;
  let admin: Headers;
  let customer: Headers;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-metrics-"));
    shop = await runApp(shopApp, {
      dataDir,
      gatewayPort: 0,
      listenHost: "127.0.0.1",
      registry: new MemoryRegistry(),
      dashboard: {},
    });
    url = shop.url ?? "";
    const client = new ShopClient(url);
    admin = await client.signIn("admin@flotilla.dev", "admin-password");
    customer = await client.signIn("demo@flotilla.dev", "demo-password");
  });
  afterAll(async () => {
    await shop?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("is for admins: 401 for the anonymous, 403 for a customer", async () => {
    expect((await fetch(`${url}/_flotilla/api/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/_flotilla/api/metrics`, { headers: customer })).status).toBe(403);
    const panels = await getJson<{ panels: { id: string; title: string }[] }>(`${url}/_flotilla/api/panels`, admin);
    expect(panels.panels).toContainEqual({ id: "metrics", title: "Metrics" });
  });

  it("counts the requests made per route and action, exactly, with their error ratios", async () => {
    const route = (m: Metrics, key: string) => m.routes.find((r) => r.key === key);
    const first = await getJson<Metrics>(`${url}/_flotilla/api/metrics`, admin);
    expect(first.supervisor).toBe(false);
    expect(first.sources).toEqual([{ source: "this process", services: [...shop.host.services] }]);
    const before = route(first, "GET /api/v1/me");
    const meBefore = first.actions.find((a) => a.key === "identity.me")?.total ?? 0;

    // 5 answered, 3 refused at the edge (no token): the refusals never reach the action.
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/api/v1/me`, { headers: admin })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await fetch(`${url}/api/v1/me`)).status).toBe(401);

    // The next reading (once the first is half a period old) has the interval's point.
    let next = first;
    await expect
      .poll(
        async () => {
          next = await getJson<Metrics>(`${url}/_flotilla/api/metrics`, admin);
          return next.sampledAt;
        },
        { timeout: 20_000, interval: 500 },
      )
      .not.toBe(first.sampledAt);
    const me = route(next, "GET /api/v1/me") as RedSeriesView;
    expect(me.total - (before?.total ?? 0)).toBe(8);
    expect(me.clientErrors - (before?.clientErrors ?? 0)).toBe(3);
    expect(me.errors).toBe(0);
    const [, requests, rate, errorRatio, clientErrorRatio, p50, p95] = me.points.at(-1) ?? [];
    expect(requests).toBe(8);
    expect(rate).toBeCloseTo(8 / (((next.sampledAt ?? 0) - (first.sampledAt ?? 0)) / 1000), 10);
    expect(errorRatio).toBe(0);
    expect(clientErrorRatio).toBe(3 / 8);
    expect(p50).toBeGreaterThan(0);
    expect(p95).toBeGreaterThanOrEqual(p50 as number);
    const action = next.actions.find((a) => a.key === "identity.me") as RedSeriesView;
    expect(action.total - meBefore).toBe(5);
    expect(action.errors).toBe(0);
    expect(next.instances.map((i) => [i.key, i.value])).toEqual([...shop.host.services].sort().map((s) => [s, 1]));
    expect(next.outbox.length).toBeGreaterThan(0);
  });

  it("sends the newest point of each series on the `metrics` topic", async () => {
    const event = await firstEvent<Metrics>(url, admin, "metrics");
    expect(event.routes.length).toBeGreaterThan(0);
    for (const series of [...event.routes, ...event.actions, ...event.handlers]) {
      expect(series.points.length).toBeLessThanOrEqual(1);
    }
    expect(event.routes.find((r) => r.key === "GET /api/v1/me")?.total).toBeGreaterThanOrEqual(8);
  });

  it("has no scaling routes without a supervisor", async () => {
    const res = await post(`${url}/_flotilla/api/metrics/scale`, admin, { unit: "x", instances: 1 });
    expect(res.status).toBe(404);
  });
});

describe("the Metrics view linked to flotilla up's supervisor", () => {
  let linked: LinkedSupervisor;
  let url: string;
  let admin: Headers;
  let customer: Headers;
  beforeAll(async () => {
    linked = await linkedSupervisor();
    url = linked.shop.url ?? "";
    const client = new ShopClient(url);
    admin = await client.signIn("admin@flotilla.dev", "admin-password");
    customer = await client.signIn("demo@flotilla.dev", "demo-password");
  }, 240_000);
  afterAll(async () => {
    await linked?.stop();
  }, 120_000);
  const supervisorStatus = () => linked.status();

  it("scales a unit through the dashboard: the supervisor runs two instances, the decision is listed with its reason", {
    timeout: 180_000,
  }, async () => {
    const metrics = await getJson<Metrics>(`${url}/_flotilla/api/metrics`, admin);
    expect(metrics.supervisor).toBe(true);
    const before = await getJson<ScalingView>(`${url}/_flotilla/api/metrics/scaling`, admin);
    expect(before.app).toBe("scaling");
    expect(before.units.map((u) => [u.name, u.desired, u.ready])).toEqual([["pinger", 1, 1]]);

    const scaled = await post(`${url}/_flotilla/api/metrics/scale`, admin, { unit: "pinger", instances: 2 });
    expect(scaled.status, JSON.stringify(scaled.body)).toBe(200);
    expect(scaled.body.decision).toMatchObject({ unit: "pinger", from: 1, to: 2, signal: "manual" });
    expect(scaled.body.decision.reason).toMatch(/^dashboard: /);
    await expect
      .poll(async () => (await supervisorStatus()).units[0]?.instances.filter((i) => i.state === "ready").length, {
        timeout: 120_000,
        interval: 500,
      })
      .toBe(2);
    const after = await getJson<ScalingView>(`${url}/_flotilla/api/metrics/scaling`, admin);
    expect(after.units[0]).toMatchObject({ name: "pinger", desired: 2, ready: 2 });
    expect(after.decisions[0]).toMatchObject({ unit: "pinger", from: 1, to: 2, signal: "manual" });
    expect(after.units[0]?.points.at(-1)?.slice(1)).toEqual([2, 2]);

    // The supervisor's refusals pass through with their codes; the dashboard's own checks come first.
    const tooMany = await post(`${url}/_flotilla/api/metrics/scale`, admin, { unit: "pinger", instances: 3 });
    expect([tooMany.status, tooMany.body.error.code]).toEqual([400, "FLOTILLA_SUPERVISOR_SCALE_OUT_OF_RANGE"]);
    const unknown = await post(`${url}/_flotilla/api/metrics/restart`, admin, { unit: "nope" });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "FLOTILLA_SUPERVISOR_UNKNOWN_UNIT"]);
    const malformed = await post(`${url}/_flotilla/api/metrics/scale`, admin, { unit: "pinger", instances: 1.5 });
    expect([malformed.status, malformed.body.error.code]).toEqual([400, "INVALID_ARGUMENT"]);
    const refused = await post(`${url}/_flotilla/api/metrics/scale`, customer, { unit: "pinger", instances: 1 });
    expect(refused.status).toBe(403);
    expect((await supervisorStatus()).units[0]?.desired).toBe(2);

    // The scaling topic pushes the status.
    const pushed = await firstEvent<ScalingView>(url, admin, "scaling");
    expect(pushed.units[0]).toMatchObject({ name: "pinger", desired: 2 });
  });

  it("records each action in the audit log with the caller's subject and its outcome", {
    timeout: 180_000,
  }, async () => {
    const entries: AuditEntry[] = [];
    const ctx: DashboardContext = {
      app: undefined,
      host: undefined,
      registry: undefined,
      events: undefined,
      transportUrl: "memory://",
      traces: undefined,
      metrics: undefined,
      supervisor: linked.link,
      transport: undefined,
      dataDir: tmpdir(),
      audit: {
        record: async (entry) => {
          entries.push(entry);
        },
        list: async () => [...entries].reverse(),
      },
      tracer: undefined,
      log: createLogger({ level: "silent" }),
    };
    const panel = metricsPanel(ctx);
    const route = (path: string) => panel?.routes?.find((r) => r.path === path);
    const caller = { subject: "user-admin-1", roles: ["admin"] };
    const answer = (await route("/scale")?.handle({
      params: {},
      query: new URLSearchParams(),
      body: { unit: "pinger", instances: 1 },
      caller,
    })) as {
      decision: { to: number };
    };
    expect(answer.decision.to).toBe(1);
    await expect(
      route("/scale")?.handle({
        params: {},
        query: new URLSearchParams(),
        body: { unit: "pinger", instances: 9 },
        caller,
      }),
    ).rejects.toMatchObject({ code: "FLOTILLA_SUPERVISOR_SCALE_OUT_OF_RANGE" });
    await route("/restart")?.handle({ params: {}, query: new URLSearchParams(), body: { unit: "pinger" }, caller });
    await expect(
      route("/restart")?.handle({
        params: {},
        query: new URLSearchParams(),
        body: { unit: "pinger" },
        caller: { subject: "user-2", roles: ["customer"] },
      }),
    ).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    expect(entries.map((e) => [e.who, e.action, e.target, e.outcome])).toEqual([
      ["user-admin-1", "unit.scale", "pinger=1", "ok"],
      ["user-admin-1", "unit.scale", "pinger=9", "FLOTILLA_SUPERVISOR_SCALE_OUT_OF_RANGE"],
      ["user-admin-1", "unit.restart", "pinger", "ok"],
    ]);
    expect((await supervisorStatus()).units[0]?.desired).toBe(1);
  });
});
