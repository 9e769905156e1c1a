/**
 * `flotilla dashboard` beside a split shop on a real nats-server: the shop's catalog and its gateway run
 * in this process (runApp over NATS with the NATS registry), the dashboard as its own process. Its API
 * refuses requests without its admin token, lists the registry's instances, and keeps the spans the
 * gateway exports to it; `--open` asks for no token.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type RunningApp, runApp } from "@flotilla/app";
import { sqliteTraceStore, TRACE_FILE } from "@flotilla/telemetry";
import { freePort } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shopApp from "../../../examples/shop/src/app.js";
import { Cluster, http, root, until, withTimeout } from "./split-helpers.js";

const bin = join(root, "packages/cli/bin/flotilla.js");

interface Dashboard {
  readonly child: ChildProcess;
  readonly url: string;
  readonly origin: string;
  readonly collector: string;
  readonly token: string | undefined;
  readonly closed: Promise<number | null>;
  output(): string;
}

/** Spawns `flotilla dashboard …` and resolves once it printed its URL (and its token, unless open). */
async function startDashboard(args: readonly string[]): Promise<Dashboard> {
  const child = spawn(process.execPath, [bin, "dashboard", "--app", "examples/shop/src/app.ts", ...args], {
    cwd: root,
    env: { ...process.env, FLOTILLA_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d));
  child.stderr?.on("data", (d: Buffer) => (out += d));
  let exited = false;
  const closed = new Promise<number | null>((r) =>
    child.once("close", (code) => {
      exited = true;
      r(code);
    }),
  );
  await until(
    () => /spans: FLOTILLA_TRACE_COLLECTOR=\S+/.test(out) || exited,
    60_000,
    "the dashboard",
    () => out,
  );
  if (exited) throw new Error(`flotilla dashboard exited:\n${out}`);
  const url = /dashboard on (http:\/\/\S+)/.exec(out)?.[1] ?? "";
  return {
    child,
    url,
    origin: new URL(url).origin,
    collector: /FLOTILLA_TRACE_COLLECTOR=(\S+)/.exec(out)?.[1] ?? "",
    token: /admin token: (\S+)/.exec(out)?.[1],
    closed,
    output: () => out,
  };
}

describe("flotilla dashboard: a split system's dashboard", () => {
  const cluster = new Cluster();
  let dashboard: Dashboard;
  let dashboardDir: string;
  let shop: RunningApp;

  beforeAll(async () => {
    const nats = await cluster.startNats();
    dashboardDir = cluster.tempDir("flotilla-dashboard-");
    dashboard = await startDashboard(["--nats", nats.url, "--port", "0", "--data-dir", dashboardDir]);
    shop = await runApp(shopApp, {
      services: ["catalog"],
      transport: nats.url,
      registry: nats.url,
      gatewayPort: 0,
      listenHost: "127.0.0.1",
      dataDir: cluster.tempDir("flotilla-catalog-"),
      // Its spans go to the dashboard, as `flotilla up` sets FLOTILLA_TRACE_COLLECTOR for its instances.
      tracing: { store: "memory", collector: dashboard.collector },
    });
  }, 120_000);

  afterAll(async () => {
    await shop?.stop();
    if (dashboard !== undefined && dashboard.child.exitCode === null) dashboard.child.kill("SIGKILL");
    await cluster.close();
  }, 60_000);

  const api = (path: string, token?: string) =>
    http(`${dashboard.origin}/_flotilla/api/${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  it("refuses the API without its admin token, with the gateway's error shape", async () => {
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_flotilla$/);
    expect(dashboard.token).toMatch(/^[\w-]{40,}$/);
    const none = await api("topology");
    expect(none.status).toBe(401);
    expect((none.body as { error: { code: string } }).error.code).toBe("UNAUTHENTICATED");
    expect((await api("panels", "not-the-token")).status).toBe(401);
    expect((await api("events?topics=topology", "not-the-token")).status).toBe(401);
    // The page holds no data: it loads without a token, and asks for one.
    expect((await http(dashboard.url)).status).toBe(200);
    // dashboard.json has the URL and the token, for its owner only.
    const file = join(dashboardDir, "dashboard.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ url: dashboard.url, token: dashboard.token });
  });

  it("shows the registry's instances in the topology", { timeout: 60_000 }, async () => {
    const catalog = async () => {
      const answer = await api("topology", dashboard.token);
      expect(answer.status).toBe(200);
      const topology = answer.body as {
        source: string;
        services: { name: string; routed: boolean; instances: { pid: number; ready: boolean }[] }[];
      };
      expect(topology.source).toBe("registry");
      expect(topology.services.map((s) => s.name)).toEqual(shopApp.services.map((s) => s.name).sort());
      return topology.services.find((s) => s.name === "catalog");
    };
    await until(async () => (await catalog())?.instances.some((i) => i.ready) === true, 30_000, "catalog ready");
    const found = await catalog();
    expect(found?.routed).toBe(true);
    expect(found?.instances.map((i) => i.pid)).toEqual([process.pid]);
    const orders = (await api("topology", dashboard.token)).body as { services: { name: string; health: string }[] };
    expect(orders.services.find((s) => s.name === "orders")?.health).toBe("down");
  });

  it("keeps the spans an instance exports to it: a request through the gateway", { timeout: 60_000 }, async () => {
    const answer = await fetch(`${shop.url}/api/v1/products?limit=1`, { signal: AbortSignal.timeout(10_000) });
    expect(answer.status).toBe(200);
    const traceId = answer.headers.get("x-trace-id") ?? "";
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const store = sqliteTraceStore({ file: join(dashboardDir, TRACE_FILE), readOnly: true });
    try {
      await until(
        async () => {
          const spans = await store.trace(traceId);
          return spans.some((s) => s.service === "gateway") && spans.some((s) => s.service === "catalog");
        },
        30_000,
        "the request's spans in the dashboard's store",
      );
    } finally {
      await store.close();
    }
  });

  it("asks no token with --open, and stops on SIGINT, removing dashboard.json", { timeout: 60_000 }, async () => {
    const dir = cluster.tempDir("flotilla-dashboard-open-");
    const open = await startDashboard(["--nats", cluster.transportUrl(), "--port", "0", "--data-dir", dir, "--open"]);
    try {
      expect(open.token).toBeUndefined();
      expect(open.output()).toContain("open: no token asked");
      expect((await http(`${open.origin}/_flotilla/api/topology`)).status).toBe(200);
      expect(existsSync(join(dir, "dashboard.json"))).toBe(false);
    } finally {
      open.child.kill("SIGINT");
      expect(await withTimeout(open.closed, 30_000, "the open dashboard to stop")).toBe(0);
    }
    dashboard.child.kill("SIGINT");
    expect(await withTimeout(dashboard.closed, 30_000, "the dashboard to stop")).toBe(0);
    expect(existsSync(join(dashboardDir, "dashboard.json"))).toBe(false);
  });

  it("refuses a command line without a NATS server (exit 2)", async () => {
    const child = spawn(process.execPath, [bin, "dashboard", "--app", "examples/shop/src/app.ts"], {
      cwd: root,
      env: { ...process.env, FLOTILLA_TRANSPORT: "" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr?.on("data", (d: Buffer) => (err += d));
    const code = await withTimeout(new Promise((r) => child.once("close", r)), 30_000, "flotilla dashboard");
    expect(code).toBe(2);
    expect(err).toContain("--nats must name the system's NATS server");
  });

  it("fails to start when its NATS server does not answer (exit 1, UNAVAILABLE)", { timeout: 90_000 }, async () => {
    const port = await freePort();
    const dir = cluster.tempDir("flotilla-dashboard-nonats-");
    const child = spawn(
      process.execPath,
      [bin, "dashboard", "--app", "examples/shop/src/app.ts", "--nats", `nats://127.0.0.1:${port}`, "--data-dir", dir],
      { cwd: root, stdio: ["ignore", "ignore", "pipe"] },
    );
    let err = "";
    child.stderr?.on("data", (d: Buffer) => (err += d));
    const code = await withTimeout(new Promise((r) => child.once("close", r)), 80_000, "flotilla dashboard");
    expect(code).toBe(1);
    expect(err).toContain("[UNAVAILABLE]");
    expect(existsSync(join(dir, "dashboard.json"))).toBe(false);
  });
});
