/** The status view's text, and the balancer's round robin over ready gateway instances (real sockets). */
import { createServer, type Server } from "node:http";
import { describe, expect, it } from "vitest";
import { Balancer } from "../src/balancer.js";
import { renderStatus, type SupervisorStatus } from "../src/index.js";
import { freshGet } from "./helpers.js";

const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const status: SupervisorStatus = {
  app: "shop",
  pid: 4242,
  startedAt: now - 185_000,
  natsUrl: "nats://127.0.0.1:4222",
  database: "PostgreSQL postgres://postgres@127.0.0.1:5432 (pid 4300), a database per service",
  gatewayUrl: "http://127.0.0.1:8080",
  units: [
    {
      name: "edge",
      services: ["identity"],
      gateway: true,
      desired: 2,
      min: 1,
      max: 3,
      health: "ok",
      restarts: 0,
      instances: [
        { id: "edge-1", unit: "edge", pid: 5001, state: "ready", startedAt: now - 180_000 },
        { id: "edge-3", unit: "edge", pid: 5007, state: "ready", startedAt: now - 42_000 },
      ],
      signals: { readyInstances: 2, inFlight: 19, cpuPercent: 63.4 },
    },
    {
      name: "orders",
      services: ["orders"],
      gateway: false,
      desired: 1,
      min: 1,
      max: 3,
      health: "crash-loop",
      restarts: 5,
      instances: [{ id: "orders-6", unit: "orders", pid: 5020, state: "starting", startedAt: now - 2_000 }],
      signals: { readyInstances: 0, lag: 340 },
    },
  ],
  companions: [
    { name: "legacy", command: "node legacy.js", pid: 4990, running: true, restarts: 0, startedAt: now - 184_000 },
  ],
  decisions: [
    {
      unit: "edge",
      from: 1,
      to: 2,
      signal: "inFlight",
      reason: "in-flight 19 over 1 instance > 8 each → 2",
      at: now - 42_500,
    },
  ],
};

describe("renderStatus", () => {
  it("shows units, instances, load, companions and decisions, cut to the width", () => {
    const text = renderStatus(status, 100, now);
    expect(text).toBe(
      [
        "shop — supervisor pid 4242, up 3m05s  gateway http://127.0.0.1:8080  nats nats://127.0.0.1:4222",
        "database: PostgreSQL postgres://postgres@127.0.0.1:5432 (pid 4300), a database per service",
        "",
        "UNIT          HEALTH     READY/WANT MIN..MAX RESTARTS IN-FLIGHT LAG     CPU",
        "edge          ok         2/2        1..3     0        19        -       63%",
        "  edge-1             pid 5001     ready     up 3m00s",
        "  edge-3             pid 5007     ready     up 42s",
        "orders        crash-loop 0/1        1..3     5        -         340     -",
        "  orders-6           pid 5020     starting  up 2s",
        "",
        "companion legacy: pid 4990 running, up 3m04s, restarts 0",
        "",
        "last decisions:",
        "  11:59:17 edge 1 → 2 [inFlight] in-flight 19 over 1 instance > 8 each → 2",
        "",
      ].join("\n"),
    );
    for (const line of renderStatus(status, 40, now).split("\n")) expect(line.length).toBeLessThanOrEqual(40);
  });
});

describe("Balancer", () => {
  it("forwards connections round robin to the backends of the moment, and refuses them when there are none", async () => {
    const servers = await Promise.all(["a", "b"].map((name) => listen(name)));
    let backends = servers.map((s) => ({ host: "127.0.0.1", port: port(s) }));
    const balancer = new Balancer(() => backends);
    const url = `http://127.0.0.1:${await balancer.listen(0, "127.0.0.1")}`;
    try {
      const names = [];
      for (let i = 0; i < 4; i++) names.push(await body(url));
      expect(names).toEqual(["a", "b", "a", "b"]);
      backends = backends.slice(1); // "a" draining: no new connections
      expect([await body(url), await body(url)]).toEqual(["b", "b"]);
      backends = [];
      expect((await freshGet(url)).status).toBe(0);
      expect(balancer.stats).toEqual({ accepted: 6, refused: 1 });
    } finally {
      await balancer.close();
      for (const s of servers) s.close();
    }
  });
});

function listen(name: string): Promise<Server> {
  const server = createServer((_req, res) => res.end(name));
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function port(server: Server): number {
  const address = server.address();
  return typeof address === "object" && address ? address.port : 0;
}

async function body(url: string): Promise<string> {
  const res = await fetch(url, { headers: { connection: "close" } });
  return res.text();
}
