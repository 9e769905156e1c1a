/**
 * @module The trace store conformance suite: every `TraceStore` must pass it unchanged.
 *
 * What it pins down about the tail decision: a span with `sampled: false` is held, unlisted and
 * unreadable, until its trace is decided. The trace is kept (its held spans and every later span
 * listed) once one of its spans has status error, its spans so far span `slowMs` or more, or one of its
 * spans is sampled. A trace still undecided when the held spans outgrow their budget is discarded:
 * its held spans are gone for good, and a span of it that arrives later starts afresh.
 */
import type { CountingTraceStore, SpanRecord } from "@flotilla/telemetry";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

export interface TraceStoreBounds {
  /** What the store bounds: estimated bytes in memory, or bytes of its file. */
  maxBytes?: number;
  slowMs?: number;
  /** Budget of the held, unsampled spans (estimated bytes). */
  heldBytes?: number;
}

export interface TraceStoreWorld {
  /** A new, empty store. */
  open(bounds: TraceStoreBounds): Promise<CountingTraceStore>;
  teardown(): Promise<void>;
}

export interface TraceStoreTarget {
  name: string;
  setup(): Promise<TraceStoreWorld>;
}

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

/** Trace number `n` as a trace id. */
export function traceIdOf(n: number): string {
  return n.toString(16).padStart(32, "0");
}

/** A finished span; `trace` and `id` are small numbers made into ids, `parent` likewise. */
export function spanOf(
  fields: { trace: number; id: number; parent?: number; at?: number; ms?: number } & Partial<SpanRecord>,
): SpanRecord {
  const { trace, id, parent, at = 0, ms = 10, ...rest } = fields;
  return {
    traceId: traceIdOf(trace),
    spanId: id.toString(16).padStart(16, "0"),
    ...(parent === undefined ? {} : { parentSpanId: parent.toString(16).padStart(16, "0") }),
    name: `op-${id}`,
    kind: 1,
    startMs: T0 + at,
    durationMs: ms,
    status: 0,
    service: "orders",
    attributes: {},
    sampled: true,
    ...rest,
  };
}

export function traceStoreConformance(target: TraceStoreTarget): void {
  describe(`trace store conformance: ${target.name}`, () => {
    let world: TraceStoreWorld;
    const stores: CountingTraceStore[] = [];

    beforeEach(async () => {
      world = await target.setup();
    });
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      await world.teardown();
    });

    async function open(bounds: TraceStoreBounds = {}): Promise<CountingTraceStore> {
      const store = await world.open(bounds);
      stores.push(store);
      return store;
    }

    describe("reading traces", () => {
      it("assembles a trace whose spans arrive out of order, child before root, and keeps every field", async () => {
        const store = await open();
        const root = spanOf({
          trace: 1,
          id: 1,
          name: "POST /api/v1/orders",
          service: "gateway",
          instance: "gw-1",
          ms: 50,
          attributes: {
            "http.route": "/api/v1/orders",
            "http.request.method": "POST",
            "http.response.status_code": 201,
          },
        });
        const child = spanOf({
          trace: 1,
          id: 2,
          parent: 1,
          at: 5,
          ms: 30,
          kind: 2,
          statusMessage: "fine",
          attributes: { tags: ["a", "b"], weights: [1.5, 2], flags: [true], retried: false },
          events: [{ name: "exception", timeMs: T0 + 6.25, attributes: { "exception.message": "x" } }],
          links: [{ traceId: traceIdOf(9), spanId: "00000000000000aa", attributes: { why: "batch" } }],
        });
        const grandchild = spanOf({ trace: 1, id: 3, parent: 2, at: 10, ms: 5, service: "payments" });
        store.add([grandchild]);
        store.add([child, spanOf({ trace: 2, id: 9 })]);
        store.add([root]);
        expect(await store.trace(traceIdOf(1))).toEqual([root, child, grandchild]);
        expect(await store.trace(traceIdOf(2))).toHaveLength(1);
        expect(await store.trace(traceIdOf(3))).toEqual([]);
      });

      it("reads spans across traces, newest start first, since an instant and within a limit", async () => {
        const store = await open();
        const a = spanOf({ trace: 1, id: 1, at: 0 });
        const b = spanOf({ trace: 2, id: 2, at: 30 });
        const c = spanOf({ trace: 1, id: 3, parent: 1, at: 20 });
        const d = spanOf({ trace: 3, id: 4, at: 10 });
        store.add([a, b]);
        store.add([c, d]);
        expect(await store.spans()).toEqual([b, c, d, a]);
        expect(await store.spans({ sinceMs: T0 + 10 })).toEqual([b, c, d]);
        expect(await store.spans({ limit: 2 })).toEqual([b, c]);
        // Unsampled spans of an undecided trace are held, unreadable here as in trace().
        store.add([spanOf({ trace: 4, id: 5, at: 40, sampled: false })]);
        expect((await store.spans()).map((s) => s.spanId)).not.toContain((5).toString(16).padStart(16, "0"));
      });

      it("summarises a trace by its root, from root start to the last span's end", async () => {
        const store = await open();
        store.add([
          spanOf({ trace: 1, id: 2, parent: 1, at: 5, ms: 100, service: "payments", status: 2 }),
          spanOf({ trace: 1, id: 3, parent: 1, at: 1, ms: 2, service: "orders", status: 2 }),
          spanOf({
            trace: 1,
            id: 1,
            name: "checkout",
            service: "gateway",
            ms: 50,
            attributes: { "http.route": "/co" },
          }),
        ]);
        expect(await store.traces()).toEqual([
          {
            traceId: traceIdOf(1),
            name: "checkout",
            service: "gateway",
            route: "/co",
            startMs: T0,
            durationMs: 105,
            spans: 3,
            errors: 2,
            services: ["gateway", "orders", "payments"],
          },
        ]);
      });

      it("names a trace whose root has not arrived after its earliest span, then after the root", async () => {
        const store = await open();
        store.add([
          spanOf({ trace: 1, id: 3, parent: 1, at: 8, name: "later" }),
          spanOf({ trace: 1, id: 2, parent: 1, at: 4, name: "earliest", service: "catalog" }),
        ]);
        expect(await store.traces()).toMatchObject([{ name: "earliest", service: "catalog", startMs: T0 + 4 }]);
        store.add([spanOf({ trace: 1, id: 1, at: 6, name: "root", service: "gateway" })]);
        expect(await store.traces()).toMatchObject([{ name: "root", service: "gateway", startMs: T0 + 4, spans: 3 }]);
      });

      it("keeps a span delivered twice once", async () => {
        const store = await open();
        const span = spanOf({ trace: 1, id: 1 });
        store.add([span]);
        store.add([span, spanOf({ trace: 1, id: 2, parent: 1 })]);
        expect(await store.trace(traceIdOf(1))).toHaveLength(2);
        expect(await store.traces()).toMatchObject([{ spans: 2 }]);
      });
    });

    describe("finding traces", () => {
      async function fixture(): Promise<CountingTraceStore> {
        const store = await open();
        store.add([
          // 1: a fast, good order through the gateway.
          spanOf({
            trace: 1,
            id: 1,
            at: 0,
            ms: 20,
            service: "gateway",
            name: "POST /api/v1/orders",
            attributes: { "http.route": "/api/v1/orders", "http.request.method": "POST" },
          }),
          spanOf({ trace: 1, id: 2, parent: 1, at: 2, ms: 10, service: "orders", name: "orders.place" }),
          // 2: a slow one that failed in payments.
          spanOf({
            trace: 2,
            id: 1,
            at: 100,
            ms: 900,
            service: "gateway",
            name: "POST /api/v1/orders",
            attributes: { "http.route": "/api/v1/orders", "http.request.method": "POST" },
          }),
          spanOf({ trace: 2, id: 2, parent: 1, at: 110, ms: 800, service: "payments", status: 2 }),
          // 3: an event handler's trace, no HTTP at all.
          spanOf({ trace: 3, id: 1, at: 200, ms: 300, service: "shipping", name: "OrderPlaced process" }),
          // 4: the most recent, fast.
          spanOf({ trace: 4, id: 1, at: 300, ms: 1, service: "catalog", name: "catalog.list" }),
        ]);
        return store;
      }

      const ids = (summaries: { traceId: string }[]) => summaries.map((s) => Number.parseInt(s.traceId, 16));

      it("lists the most recent first, or the slowest first, at most the limit", async () => {
        const store = await fixture();
        expect(ids(await store.traces())).toEqual([4, 3, 2, 1]);
        expect(ids(await store.traces({ order: "recent", limit: 2 }))).toEqual([4, 3]);
        expect(ids(await store.traces({ order: "slowest" }))).toEqual([2, 3, 1, 4]);
        expect(ids(await store.traces({ order: "slowest", limit: 1 }))).toEqual([2]);
      });

      it("finds traces by service, route, status, duration and start", async () => {
        const store = await fixture();
        expect(ids(await store.traces({ service: "payments" }))).toEqual([2]);
        expect(ids(await store.traces({ service: "gateway" }))).toEqual([2, 1]);
        expect(ids(await store.traces({ service: "nobody" }))).toEqual([]);
        expect(ids(await store.traces({ route: "/api/v1/orders" }))).toEqual([2, 1]);
        expect(ids(await store.traces({ route: "POST /api/v1/orders" }))).toEqual([2, 1]);
        expect(ids(await store.traces({ route: "OrderPlaced process" }))).toEqual([3]);
        expect(ids(await store.traces({ route: "orders.place" }))).toEqual([]);
        expect(ids(await store.traces({ status: "error" }))).toEqual([2]);
        expect(ids(await store.traces({ status: "ok" }))).toEqual([4, 3, 1]);
        expect(ids(await store.traces({ minDurationMs: 300 }))).toEqual([3, 2]);
        expect(ids(await store.traces({ minDurationMs: 301 }))).toEqual([2]);
        expect(ids(await store.traces({ sinceMs: T0 + 200 }))).toEqual([4, 3]);
        expect(ids(await store.traces({ service: "gateway", status: "ok", order: "slowest" }))).toEqual([1]);
      });

      it("lists twenty traces unless told otherwise", async () => {
        const store = await open();
        for (let t = 1; t <= 25; t++) store.add([spanOf({ trace: t, id: 1, at: t })]);
        expect(await store.traces()).toHaveLength(20);
        expect(await store.traces({ limit: 100 })).toHaveLength(25);
      });
    });

    describe("its byte bound", () => {
      it("evicts whole traces, those that arrived first first", async () => {
        const maxBytes = 256 * 1024;
        const store = await open({ maxBytes });
        const padding = "x".repeat(2000);
        const traces = 400;
        for (let t = 1; t <= traces; t++) {
          store.add([spanOf({ trace: t, id: 1, at: t, attributes: { padding } })]);
          store.add([
            spanOf({ trace: t, id: 2, parent: 1, at: t, attributes: { padding } }),
            spanOf({ trace: t, id: 3, parent: 1, at: t, attributes: { padding } }),
          ]);
        }
        const kept = await store.traces({ limit: traces });
        expect(kept.length).toBeGreaterThan(2);
        expect(kept.length).toBeLessThan(traces / 2);
        // The newest, with no gap: traces go oldest first.
        const numbers = kept.map((s) => Number.parseInt(s.traceId, 16));
        expect(numbers).toEqual(numbers.map((_, i) => traces - i));
        for (const summary of kept) expect(summary.spans).toBe(3);
        expect(await store.trace(traceIdOf(1))).toEqual([]);
        expect(await store.trace(traceIdOf(traces))).toHaveLength(3);
        const stats = store.stats();
        expect(stats.traces).toBe(kept.length);
        expect(stats.spans).toBe(kept.length * 3);
        expect(stats.evictedTraces).toBe(traces - kept.length);
        expect(stats.evictedSpans).toBe(3 * (traces - kept.length));
        expect(stats.bytes).toBeLessThanOrEqual(maxBytes);
      });
    });

    describe("the tail decision", () => {
      const ids = async (store: CountingTraceStore) =>
        (await store.traces({ limit: 1000 })).map((s) => Number.parseInt(s.traceId, 16));

      it("holds an unsampled trace unlisted while it is good and fast", async () => {
        const store = await open({ slowMs: 1000 });
        store.add([
          spanOf({ trace: 1, id: 2, parent: 1, at: 1, ms: 10, sampled: false }),
          spanOf({ trace: 1, id: 1, ms: 998, sampled: false }),
        ]);
        expect(await ids(store)).toEqual([]);
        expect(await store.trace(traceIdOf(1))).toEqual([]);
        expect(store.stats()).toMatchObject({ heldSpans: 2, traces: 0, spans: 0 });
      });

      it("keeps an unsampled trace with an error: the spans before the error and after it", async () => {
        const store = await open({ slowMs: 1000 });
        store.add([spanOf({ trace: 1, id: 3, parent: 2, at: 2, sampled: false })]);
        store.add([spanOf({ trace: 1, id: 2, parent: 1, at: 1, sampled: false, status: 2 })]);
        store.add([spanOf({ trace: 1, id: 1, sampled: false })]);
        expect(await ids(store)).toEqual([1]);
        expect((await store.trace(traceIdOf(1))).map((s) => s.spanId.slice(-1))).toEqual(["1", "2", "3"]);
        expect(store.stats()).toMatchObject({ heldSpans: 0, promotedSpans: 3 });
      });

      it("keeps an unsampled trace whose spans span slowMs or more", async () => {
        const store = await open({ slowMs: 1000 });
        // Neither span is slow alone: together they cover 1000 ms.
        store.add([spanOf({ trace: 1, id: 2, parent: 1, at: 0, ms: 600, sampled: false })]);
        expect(await ids(store)).toEqual([]);
        store.add([spanOf({ trace: 1, id: 3, parent: 1, at: 500, ms: 500, sampled: false })]);
        expect(await ids(store)).toEqual([1]);
        expect(await store.trace(traceIdOf(1))).toHaveLength(2);
      });

      it("keeps a trace whole when some of its spans were sampled and some not", async () => {
        const store = await open();
        store.add([spanOf({ trace: 1, id: 2, parent: 1, sampled: false })]);
        store.add([spanOf({ trace: 1, id: 1, sampled: true })]);
        store.add([spanOf({ trace: 1, id: 3, parent: 1, sampled: false })]);
        expect(await store.trace(traceIdOf(1))).toHaveLength(3);
      });

      it("discards the undecided traces held longest when the held spans outgrow their budget", async () => {
        const store = await open({ heldBytes: 8 * 1024, slowMs: 1000 });
        const padding = "x".repeat(500);
        for (let t = 1; t <= 40; t++) store.add([spanOf({ trace: t, id: 1, sampled: false, attributes: { padding } })]);
        const { heldSpans, discardedSpans } = store.stats();
        expect(heldSpans).toBeGreaterThan(0);
        expect(heldSpans).toBeLessThan(40);
        expect(discardedSpans).toBe(40 - heldSpans);
        // Trace 1 was discarded: its error keeps only what arrives from now on.
        store.add([spanOf({ trace: 1, id: 2, parent: 1, sampled: false, status: 2 })]);
        // Trace 40 is still held: its error keeps its earlier span too.
        store.add([spanOf({ trace: 40, id: 2, parent: 1, sampled: false, status: 2 })]);
        // Equal starts: by trace id.
        expect(await ids(store)).toEqual([1, 40]);
        expect(await store.trace(traceIdOf(1))).toHaveLength(1);
        expect(await store.trace(traceIdOf(40))).toHaveLength(2);
      });

      it("keeps sampled spans whatever their status and duration", async () => {
        const store = await open({ slowMs: 1000 });
        store.add([spanOf({ trace: 1, id: 1, ms: 1 }), spanOf({ trace: 2, id: 1, ms: 5000, status: 2 })]);
        // Equal starts: by trace id.
        expect(await ids(store)).toEqual([1, 2]);
      });
    });
  });
}
