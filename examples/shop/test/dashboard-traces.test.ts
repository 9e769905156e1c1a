/**
 * The dashboard's Traces API on the embedded shop: real requests through the gateway found again by
 * service, route, status and duration, a trace read whole with its critical path, spans of another
 * process received over OTLP at `/_flotilla/v1/traces`, the live topic, and who may use all that.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { type RunningApp, runApp } from "@flotilla/app";
import { MemoryRegistry } from "@flotilla/core";
import type { SpanRecord, TraceSummary } from "@flotilla/telemetry";
import { waitFor } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shopApp from "../src/app.js";
import { ADDRESS, CARDS, type Headers, ShopClient } from "./support/shop-client.js";

const run = promisify(execFile);
const EXPORTER = new URL("./fixtures/otlp-export.ts", import.meta.url).pathname;

interface Search {
  traces: TraceSummary[];
  services: string[];
}
interface TraceRead {
  traceId: string;
  spans: SpanRecord[];
  criticalPath: string[];
  services: string[];
}

describe("the dashboard's Traces API on the shop's gateway", () => {
  let shop: RunningApp;
  let dataDir: string;
  let url: string;
  let admin: Headers;
  let customer: Headers;
  /** The declined checkout's trace, once all its spans are in. */
  let checkout: TraceSummary;

  const get = async <T>(path: string, headers: Headers = admin): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${url}/_flotilla/api/${path}`, { headers });
    return { status: res.status, body: (await res.json()) as T };
  };
  const search = async (params: string): Promise<Search> => {
    const res = await get<Search>(`traces?${params}`);
    expect(res.status, params).toBe(200);
    return res.body;
  };
  const ids = (found: Search) => found.traces.map((t) => t.traceId);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-traces-"));
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
    expect((await client.send("GET", "/api/v1/products", {})).status).toBe(200);
    const placed = await client.placeOrder(customer, {
      items: [{ productId: "prod-french-press", quantity: 1 }],
      payment: { card: CARDS.declined },
      shipping: ADDRESS,
    });
    expect(placed.status).toBe(202);
    expect((await client.settled(customer, placed.body.orderId)).status).toBe("rejected");
    // The saga's last spans end after the order settles: wait for the notification it ends with, then
    // until the trace stops growing.
    let last = -1;
    await waitFor(
      async () => {
        const [found] = (await search("route=POST%20/api/v1/orders&service=payments")).traces;
        if (found === undefined) return false;
        const { spans } = (await get<TraceRead>(`traces/${found.traceId}`)).body;
        const notified = spans.some((s) => s.name === "notifications.NotificationCreated publish");
        const grown = found.spans !== last;
        checkout = found;
        last = found.spans;
        return notified && !grown;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: "the checkout's trace to be complete" },
    );
  }, 120_000);
  afterAll(async () => {
    await shop?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("finds the real requests by route, service, status and duration, and names the services seen", async () => {
    const products = await search(`route=${encodeURIComponent("GET /api/v1/products")}`);
    expect(products.traces.length).toBeGreaterThan(0);
    for (const t of products.traces) {
      expect(t.route).toBe("/api/v1/products");
      expect(t.services).toContain("catalog");
    }
    expect(products.services).toEqual(expect.arrayContaining(["catalog", "gateway", "orders", "payments"]));
    expect([...products.services].sort()).toEqual(products.services);

    expect(checkout.name).toBe("POST /api/v1/orders");
    expect(checkout.errors).toBeGreaterThan(0);
    expect(ids(await search("service=payments"))).toContain(checkout.traceId);
    expect(ids(await search("service=payments&status=error"))).toContain(checkout.traceId);
    expect(ids(await search("service=payments&status=ok"))).not.toContain(checkout.traceId);
    expect(ids(await search(`minMs=${Math.floor(checkout.durationMs)}&limit=1000`))).toContain(checkout.traceId);
    expect(ids(await search(`minMs=${Math.ceil(checkout.durationMs) + 60_000}`))).toEqual([]);
    for (const t of (await search("status=error")).traces) expect(t.errors).toBeGreaterThan(0);
    const slowest = (await search("order=slowest&limit=10")).traces.map((t) => t.durationMs);
    expect(slowest).toEqual([...slowest].sort((a, b) => b - a));
    expect((await search("limit=2")).traces).toHaveLength(2);
    expect(ids(await search(`sinceMs=${Math.ceil(checkout.startMs) + 1}`))).not.toContain(checkout.traceId);
  });

  it("reads a trace whole, with its critical path a chain from the root to the span that ended last", async () => {
    const res = await get<TraceRead>(`traces/${checkout.traceId.toUpperCase()}`);
    expect(res.status).toBe(200);
    const trace = res.body;
    expect(trace.traceId).toBe(checkout.traceId);
    expect(trace.spans.length).toBeGreaterThanOrEqual(checkout.spans);
    expect(trace.services).toEqual(expect.arrayContaining([...checkout.services]));
    const starts = trace.spans.map((s) => s.startMs);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
    const onPath = trace.criticalPath.map((id) => byId.get(id) as SpanRecord);
    expect(onPath.every((s) => s !== undefined)).toBe(true);
    // Every span is under the gateway's root here, so the path starts there...
    const root = onPath[0] as SpanRecord;
    expect(root.parentSpanId).toBeUndefined();
    expect(root.name).toBe("POST /api/v1/orders");
    // ...each span on it hangs under the one that called it...
    const path = new Set(trace.criticalPath);
    for (const s of onPath.slice(1)) expect(path.has(s.parentSpanId ?? ""), `${s.service}:${s.name}`).toBe(true);
    // ...and it reaches the span that ended last (after the gateway answered: the saga runs on events).
    const ends = (s: SpanRecord) => s.startMs + s.durationMs;
    const lastEnded = trace.spans.reduce((a, b) => (ends(b) > ends(a) ? b : a));
    expect(path.has(lastEnded.spanId)).toBe(true);
    expect(ends(lastEnded)).toBeGreaterThan(ends(root));
  });

  it("keeps the spans another process exports to /_flotilla/v1/traces, and finds them like its own", async () => {
    const token = (admin.authorization ?? "").slice("Bearer ".length);
    const { stdout } = await run(process.execPath, ["--import", "tsx", EXPORTER], {
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${url}/_flotilla/v1/traces`,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${token}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_COMPRESSION: "gzip",
        FIXTURE_SERVICE: "warehouse-robot",
        FIXTURE_ROUTE: "robot.pick",
      },
      timeout: 60_000,
    });
    const traceId = stdout.trim();
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const found = await search("service=warehouse-robot&status=error&route=robot.pick&minMs=90");
    expect(ids(found)).toEqual([traceId]);
    expect(found.services).toContain("warehouse-robot");
    expect(found.traces[0]).toMatchObject({ name: "robot.pick", spans: 3, errors: 1, services: ["warehouse-robot"] });

    const read = (await get<TraceRead>(`traces/${traceId}`)).body;
    const names = (list: string[]) => list.map((id) => read.spans.find((s) => s.spanId === id)?.name);
    // The slow step ends last under the root; the short one ended before it started, so it is on the path too.
    expect(names(read.criticalPath)).toEqual(["robot.pick", "fixture.prepare", "fixture.slow"]);
    const slow = read.spans.find((s) => s.name === "fixture.slow");
    expect(slow).toMatchObject({ status: 2, statusMessage: "fixture failed on purpose" });
    expect(slow?.attributes["fixture.step"]).toBe("slow");
    expect(slow?.events?.[0]?.name).toBe("fixture.halfway");
  });

  it("answers the receiver's errors as the ops port does, after the gateway's own body limit", async () => {
    const post = (body: string | Uint8Array, headers: Headers) =>
      fetch(`${url}/_flotilla/v1/traces`, { method: "POST", headers: { ...admin, ...headers }, body });
    const json = { "content-type": "application/json" };

    const malformed = await post('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}', json);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 3, message: expect.stringContaining("traceId") });
    const protobuf = await post(new Uint8Array([10, 0]), { "content-type": "application/x-protobuf" });
    expect(protobuf.status).toBe(415);
    expect(((await protobuf.json()) as { message: string }).message).toContain("http/json");
    const notGzip = await post("plainly not gzip", { ...json, "content-encoding": "gzip" });
    expect(notGzip.status).toBe(400);
    const bomb = await post(gzipSync(Buffer.alloc(9 * 1024 * 1024, 32)), { ...json, "content-encoding": "gzip" });
    expect(bomb.status).toBe(413);
    expect(await bomb.json()).toMatchObject({ code: 8 });
    // The gateway's own body limit (1 MiB by default) comes first, on the declared length.
    const huge = await post(Buffer.alloc(1536 * 1024, 32), json);
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: { code: string } }).error.code).toBe("FLOTILLA_PAYLOAD_TOO_LARGE");
    const empty = await post(gzipSync('{"resourceSpans":[]}'), { ...json, "content-encoding": "gzip" });
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({});
  });

  it("sends the newest traces on the `traces` topic of the event stream", async () => {
    const stop = new AbortController();
    const res = await fetch(`${url}/_flotilla/api/events?topics=traces`, { headers: admin, signal: stop.signal });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let update: { traces: TraceSummary[] } | undefined;
    while (update === undefined) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const data = /^event: traces\ndata: (.*)$/m.exec(buffer);
      if (data?.[1] !== undefined) update = JSON.parse(data[1]) as { traces: TraceSummary[] };
    }
    stop.abort();
    expect(update?.traces.length).toBeGreaterThan(0);
    expect(update?.traces.length).toBeLessThanOrEqual(50);
    const starts = update?.traces.map((t) => t.startMs) ?? [];
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
  });

  it("refuses bad searches and trace ids with 400 INVALID_ARGUMENT, and an unknown trace with 404", async () => {
    for (const params of ["status=maybe", "order=random", "limit=0", "limit=1001", "minMs=-5", "colour=red"]) {
      const res = await get<{ error: { code: string } }>(`traces?${params}`);
      expect(res.status, params).toBe(400);
      expect(res.body.error.code, params).toBe("INVALID_ARGUMENT");
    }
    for (const id of ["xyz", "0".repeat(32), "a".repeat(33)]) {
      const res = await get<{ error: { code: string } }>(`traces/${id}`);
      expect(res.status, id).toBe(400);
      expect(res.body.error.code, id).toBe("INVALID_ARGUMENT");
    }
    const unknown = await get<{ error: { code: string } }>(`traces/${"ab".repeat(16)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("NOT_FOUND");
  });

  it("refuses the search, the reads and the receiver to the anonymous (401) and to customers (403)", async () => {
    const otlp = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "intruder" } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: "cd".repeat(16),
                  spanId: "ef".repeat(8),
                  name: "forged",
                  startTimeUnixNano: "1700000000000000000",
                  endTimeUnixNano: "1700000000100000000",
                },
              ],
            },
          ],
        },
      ],
    });
    for (const [who, headers, status, code] of [
      ["anonymous", {}, 401, "UNAUTHENTICATED"],
      ["customer", customer, 403, "PERMISSION_DENIED"],
    ] as const) {
      for (const path of ["traces", `traces/${checkout.traceId}`, "events?topics=traces"]) {
        const res = await fetch(`${url}/_flotilla/api/${path}`, { headers });
        expect(res.status, `${who} ${path}`).toBe(status);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
      }
      const sent = await fetch(`${url}/_flotilla/v1/traces`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: otlp,
      });
      expect(sent.status, `${who} POST`).toBe(status);
    }
    expect((await search("service=intruder")).traces).toEqual([]);
    expect((await get(`traces/${"cd".repeat(16)}`)).status).toBe(404);
  });
});
