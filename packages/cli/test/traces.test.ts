/** `flotilla trace` and `flotilla traces` as a user runs them, on a trace file the store wrote, and over an ops port. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOpsServer } from "@flotilla/app";
import { createHost, MemoryTransport } from "@flotilla/core";
import { memoryTraceStore, metrics, type SpanRecord, sqliteTraceStore, TRACE_FILE } from "@flotilla/telemetry";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { flotillaDone, killChildren } from "./fixtures/operator-cli.js";

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);
const ORDER = "a".repeat(32);
const LIST = "b".repeat(32);
const SLOW = "c".repeat(32);

function span(traceId: string, id: number, fields: Partial<SpanRecord> = {}): SpanRecord {
  return {
    traceId,
    spanId: id.toString(16).padStart(16, "0"),
    name: "op",
    kind: 1,
    startMs: T0,
    durationMs: 1,
    status: 0,
    service: "gateway",
    attributes: {},
    sampled: true,
    ...fields,
  };
}

const SPANS: SpanRecord[] = [
  span(ORDER, 1, {
    name: "POST /api/v1/orders",
    durationMs: 120,
    attributes: { "http.route": "/api/v1/orders", "http.request.method": "POST" },
  }),
  span(ORDER, 2, {
    parentSpanId: span(ORDER, 1).spanId,
    name: "orders.place",
    service: "orders",
    startMs: T0 + 3,
    durationMs: 100,
    status: 2,
    statusMessage: "out of stock",
    attributes: { "error.type": "OUT_OF_STOCK" },
  }),
  span(LIST, 1, { name: "GET /api/v1/products", startMs: T0 + 1000, durationMs: 12 }),
  span(LIST, 2, { parentSpanId: span(LIST, 1).spanId, name: "catalog.list", service: "catalog", startMs: T0 + 1001 }),
  span(SLOW, 1, { name: "OrderPlaced process", service: "shipping", startMs: T0 + 500, durationMs: 2500 }),
];

// Each run starts Node and tsx: seconds apiece on a busy two-core machine.
const RUN = 60_000;

describe("flotilla trace and traces", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-traces-cli-"));
    const store = sqliteTraceStore({ file: join(dataDir, TRACE_FILE) });
    store.add(SPANS);
    await store.close();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  afterEach(() => killChildren());

  it("lists the recent traces of the data directory's trace file, and the slowest", { timeout: 120_000 }, async () => {
    const [recent, slow, json] = await Promise.all([
      flotillaDone(["traces", "--data-dir", dataDir], {}, RUN),
      flotillaDone(["traces", "--slow", "--limit", "2", "--data-dir", dataDir], {}, RUN),
      flotillaDone(["traces", "--errors", "--json", "--file", join(dataDir, TRACE_FILE)], {}, RUN),
    ]);
    expect(recent.code, recent.stderr).toBe(0);
    expect(recent.stdout.split("\n")).toEqual([
      "TRACE ID                          START                     DURATION  SPANS  ERRORS  NAME                  SERVICES",
      `${LIST}  2026-01-02T03:04:06.000Z    12.0ms      2       0  GET /api/v1/products  catalog,gateway`,
      `${SLOW}  2026-01-02T03:04:05.500Z     2.50s      1       0  OrderPlaced process   shipping`,
      `${ORDER}  2026-01-02T03:04:05.000Z     120ms      2       1  POST /api/v1/orders   gateway,orders`,
      "3 traces",
      "",
    ]);
    expect(slow.code, slow.stderr).toBe(0);
    expect(
      slow.stdout
        .split("\n")
        .slice(1, 3)
        .map((l) => l.slice(0, 32)),
    ).toEqual([SLOW, ORDER]);
    expect(slow.stdout).toContain("2 traces, slowest first");
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject([{ traceId: ORDER, errors: 1, services: ["gateway", "orders"] }]);
  });

  it("draws one trace as a waterfall, without colours when not on a terminal", { timeout: 120_000 }, async () => {
    const [drawn, upper] = await Promise.all([
      flotillaDone(["trace", ORDER, "--data-dir", dataDir, "--width", "80"], {}, RUN),
      flotillaDone(["trace", ORDER.toUpperCase(), "--data-dir", dataDir, "--json"], {}, RUN),
    ]);
    expect(drawn.code, drawn.stderr).toBe(0);
    expect(drawn.stdout).not.toContain("\x1b[");
    expect(drawn.stdout.split("\n").slice(2)).toEqual([
      "  POST /api/v1/orders gateway    120ms █████████████████████████████████████████",
      "✗ └─ orders.place     orders     100ms  ██████████████████████████████████",
      "        ↳ OUT_OF_STOCK: out of stock",
      "",
    ]);
    expect(upper.code, upper.stderr).toBe(0);
    expect(JSON.parse(upper.stdout)).toEqual(SPANS.slice(0, 2));
  });

  it("fails with one line and a code when there is no such trace or no trace file", { timeout: 120_000 }, async () => {
    const empty = mkdtempSync(join(tmpdir(), "flotilla-traces-none-"));
    try {
      const [unknown, noFile, notAnId] = await Promise.all([
        flotillaDone(["trace", "d".repeat(32), "--data-dir", dataDir], {}, RUN),
        flotillaDone(["traces", "--data-dir", empty], {}, RUN),
        flotillaDone(["trace", "not-a-trace"], {}, RUN),
      ]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe(`flotilla: no trace ${"d".repeat(32)} in ${join(dataDir, TRACE_FILE)} [NOT_FOUND]\n`);
      expect(noFile.code).toBe(1);
      expect(noFile.stderr).toMatch(/^flotilla: no trace file at .*flotilla\.traces\.sqlite .*\[NOT_FOUND\]\n$/);
      expect(notAnId.code).toBe(2);
      expect(notAnId.stderr).toMatch(/"not-a-trace" is not a trace id/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("asks a running instance's ops port with --url", { timeout: 120_000 }, async () => {
    const host = createHost({ services: [], transport: new MemoryTransport() });
    await host.start();
    const traces = memoryTraceStore();
    traces.add(SPANS);
    const ops = await startOpsServer(host, metrics(), { port: 0, host: "127.0.0.1" }, { traces });
    try {
      const [list, one, missing] = await Promise.all([
        flotillaDone(["traces", "--url", ops.url, "--service", "orders"], {}, RUN),
        flotillaDone(["trace", SLOW, "--url", ops.url], {}, RUN),
        flotillaDone(["trace", "d".repeat(32), "--url", ops.url], {}, RUN),
      ]);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain(`${ORDER}  2026-01-02T03:04:05.000Z`);
      expect(list.stdout).toContain("1 trace\n");
      expect(one.code, one.stderr).toBe(0);
      expect(one.stdout).toContain("OrderPlaced process shipping");
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(`flotilla: no trace ${"d".repeat(32)} in ${ops.url} [NOT_FOUND]\n`);
    } finally {
      await ops.close();
      await host.stop();
    }
    const gone = await flotillaDone(["traces", "--url", ops.url], {}, RUN);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^flotilla: cannot reach .* \[UNAVAILABLE\]\n$/);
  });
});
