/** The Traces panel on a real memory trace store, without a server: present only with a store; its routes and topic. */
import { createLogger } from "@flotilla/core";
import type { PanelRoute, PolledTopic } from "@flotilla/dashboard";
import { memoryTraceStore, type SpanRecord } from "@flotilla/telemetry";
import { describe, expect, it } from "vitest";
import type { DashboardContext } from "../src/dashboard/dashboard-context.js";
import { dashboardPanels } from "../src/dashboard/dashboard-panels.js";
import { tracesPanel } from "../src/dashboard/traces-panel.js";

const T = 1_700_000_000_000;

function context(traces: DashboardContext["traces"]): DashboardContext {
  return {
    app: undefined,
    host: undefined,
    registry: undefined,
    events: undefined,
    transportUrl: "memory://",
    traces,
    metrics: undefined,
    supervisor: undefined,
    dataDir: ".",
    audit: undefined,
    transport: undefined,
    tracer: undefined,
    log: createLogger({ level: "silent" }),
  };
}

function span(
  trace: number,
  id: string,
  parent: string | undefined,
  service: string,
  at: number,
  ms: number,
): SpanRecord {
  return {
    traceId: String(trace).padStart(32, "a"),
    spanId: id.padStart(16, "0"),
    ...(parent === undefined ? {} : { parentSpanId: parent.padStart(16, "0") }),
    name: parent === undefined ? "GET /things" : `${service}.work`,
    kind: 1,
    startMs: T + trace * 1000 + at,
    durationMs: ms,
    status: service === "broken" ? 2 : 0,
    service,
    attributes: {},
    sampled: true,
  };
}

const ask = (route: PanelRoute | undefined, query = "", params: Record<string, string> = {}) =>
  (route as PanelRoute).handle({ params, query: new URLSearchParams(query), body: undefined, caller: undefined });

describe("the Traces panel", () => {
  it("is there only when the context keeps traces", () => {
    expect(tracesPanel(context(undefined))).toBeUndefined();
    expect(dashboardPanels(context(undefined)).map((p) => p.id)).not.toContain("traces");
    expect(dashboardPanels(context(memoryTraceStore())).map((p) => p.id)).toContain("traces");
  });

  it("searches, reads a trace with its critical path, and sends the newest 50 on its topic", async () => {
    const store = memoryTraceStore();
    for (let t = 1; t <= 60; t++) {
      store.add([span(t, "1", undefined, "gateway", 0, 10), span(t, "2", "1", t % 2 === 0 ? "broken" : "fine", 1, 5)]);
    }
    const panel = tracesPanel(context(store));
    const [search, read] = panel?.routes ?? [];

    const found = (await ask(search, "service=broken&limit=5")) as {
      traces: { traceId: string }[];
      services: string[];
    };
    expect(found.traces).toHaveLength(5);
    expect(found.services).toEqual(["broken", "fine", "gateway"]);
    await expect(ask(search, "status=sometimes")).rejects.toMatchObject({ status: "INVALID_ARGUMENT" });

    const one = (await ask(read, "", { id: String(7).padStart(32, "a").toUpperCase() })) as {
      spans: SpanRecord[];
      criticalPath: string[];
      services: string[];
    };
    expect(one.spans).toHaveLength(2);
    expect(one.criticalPath).toEqual(["0000000000000001", "0000000000000002"]);
    expect(one.services).toEqual(["fine", "gateway"]);
    await expect(ask(read, "", { id: "nope" })).rejects.toMatchObject({ status: "INVALID_ARGUMENT" });
    await expect(ask(read, "", { id: "b".repeat(32) })).rejects.toMatchObject({ status: "NOT_FOUND" });

    const topic = panel?.topics?.[0] as PolledTopic;
    expect(topic.name).toBe("traces");
    const update = (await topic.read()) as { traces: { traceId: string }[] };
    expect(update.traces).toHaveLength(50);
    expect(update.traces[0]?.traceId).toBe(String(60).padStart(32, "a"));
  });
});
