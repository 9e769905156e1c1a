/** The Topology panel with and without an observed reader: its routes, its topics and what the topology says of them. */
import { createHost, type Host } from "@flotilla/core";
import { afterEach, describe, expect, it } from "vitest";
import type { PolledTopic } from "../src/panel.js";
import type { ObservedGraph } from "../src/topology-observed.js";
import { topologyPanel } from "../src/topology-panel.js";

const GRAPH: ObservedGraph = {
  windowMs: 300_000,
  generatedAt: "2026-12-03T18:00:00.000Z",
  spans: 2,
  calls: [
    {
      from: "gateway",
      to: "orders",
      via: "call",
      calls: 1,
      perMinute: 0.2,
      errors: 0,
      errorRatio: 0,
      p50Ms: 3,
      p95Ms: 3,
      actions: ["orders.createOrder"],
    },
  ],
  events: [],
  pubsub: [],
};
const request = { params: {}, query: new URLSearchParams(), body: undefined, caller: undefined };

describe("topologyPanel", () => {
  let host: Host;
  afterEach(() => host?.stop());

  it("offers the observed edges as a route and a topic of their own, and says so in the topology", async () => {
    host = createHost({ services: [] });
    let reads = 0;
    const panel = topologyPanel({
      host,
      observed: async () => {
        reads++;
        return GRAPH;
      },
      edgesRefreshMs: 1_000,
    });
    expect(panel.routes?.map((r) => r.path)).toEqual(["", "/edges"]);
    const edges = panel.routes?.find((r) => r.path === "/edges");
    expect(await edges?.handle(request)).toEqual(GRAPH);
    const topic = panel.topics?.find((t) => t.name === "topology-edges") as PolledTopic;
    expect(topic.everyMs).toBe(1_000);
    expect(await topic.read()).toEqual(GRAPH);
    expect(reads).toBe(2);
    expect(await panel.routes?.[0]?.handle(request)).toMatchObject({ observed: true, services: [] });
  });

  it("has neither without one, and the topology says there are none", async () => {
    host = createHost({ services: [] });
    const panel = topologyPanel({ host });
    expect(panel.routes?.map((r) => r.path)).toEqual([""]);
    expect(panel.topics?.map((t) => t.name)).toEqual(["topology"]);
    expect(await panel.routes?.[0]?.handle(request)).toMatchObject({ observed: false });
  });
});
