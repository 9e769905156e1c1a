/**
 * The dashboard where the supervisor runs: `flotilla up` serves it (admin token in dashboard.json, its
 * URL in `ps --json`), every instance sends its spans to its store and the gateway's instances get the
 * supervisor's address; `flotilla dev` serves it open. The hot-reload fixture app (front, tally, a
 * gateway alone in `edge`) over the nats-server each command starts or is given.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sqliteTraceStore, TRACE_FILE } from "@flotilla/telemetry";
import { type NatsServerHandle, startNatsServer } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http, until, withTimeout } from "../../cli/test/split-helpers.js";
import { callSupervisor, type SupervisorStatus } from "../src/index.js";
import { FixtureCopies, fixtureApp, repositoryRoot } from "./dev/fixture-copy.js";
import { startUp, type Up } from "./helpers.js";

const APP = join(fixtureApp, "app.ts");

/** The environment a running process was started with (Linux). */
function environOf(pid: number): Record<string, string> {
  const pairs = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
  return Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));
}

describe("flotilla up serves the system's dashboard", () => {
  let up: Up;
  let dataDir: string;
  let url: string;
  let token: string;
  const ps = async () => (await callSupervisor(dataDir, "GET", "/status")) as SupervisorStatus;
  const api = (path: string, bearer?: string) =>
    http(
      `${new URL(url).origin}/_flotilla/api/${path}`,
      bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {},
    );

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-up-dashboard-"));
    up = await startUp(["--app", APP, "--data-dir", dataDir, "--port", "0", "--no-autoscale"]);
    const line = /dashboard on (http:\/\/\S+), admin token (\S+)\s/;
    // Printed right after the line startUp waits for, maybe in another chunk.
    await until(
      () => line.test(up.output()),
      10_000,
      "the dashboard's line",
      () => up.output().slice(-4_000),
    );
    const printed = line.exec(up.output());
    url = printed?.[1] ?? "";
    token = printed?.[2] ?? "";
  }, 150_000);

  afterAll(async () => {
    if (up && up.child.exitCode === null) {
      up.child.kill("SIGINT");
      await withTimeout(up.closed, 60_000, "flotilla up to stop").catch(() => up.child.kill("SIGKILL"));
    }
    rmSync(dataDir, { recursive: true, force: true });
  }, 90_000);

  it("prints its URL and token, keeps them in dashboard.json, and shows the URL in ps --json", async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_flotilla$/);
    const file = join(dataDir, "dashboard.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ url, token });
    expect((await ps()).dashboardUrl).toBe(url);
    expect((await api("topology")).status).toBe(401);
  });

  it("lists the instances the supervisor runs, read from the registry", { timeout: 60_000 }, async () => {
    const supervised = (await ps()).units
      .filter((u) => u.name !== "edge")
      .flatMap((u) => u.instances.map((i) => i.pid))
      .sort();
    const shown = async () => {
      const topology = (await api("topology", token)).body as {
        services: { name: string; instances: { pid: number; ready: boolean }[] }[];
      };
      return topology.services.flatMap((s) => s.instances.filter((i) => i.ready).map((i) => i.pid)).sort();
    };
    await until(async () => (await shown()).length === supervised.length, 30_000, "the instances to be ready");
    expect(await shown()).toEqual(supervised);
  });

  it("gives every instance its collector, and the gateway's the supervisor's address", async () => {
    const status = await ps();
    const control = JSON.parse(readFileSync(join(dataDir, "supervisor.json"), "utf8")) as { url: string };
    for (const unit of status.units) {
      for (const instance of unit.instances) {
        const env = environOf(instance.pid);
        expect(env.FLOTILLA_TRACE_COLLECTOR).toBe(`${new URL(url).origin}/v1/traces`);
        expect(env.FLOTILLA_SUPERVISOR_URL).toBe(unit.name === "edge" ? control.url : undefined);
        expect(env.FLOTILLA_SUPERVISOR_TOKEN === undefined).toBe(unit.name !== "edge");
      }
    }
  });

  it("keeps the spans of a request through the gateway, from each instance it crossed", {
    timeout: 60_000,
  }, async () => {
    const status = await ps();
    const pidOf = (unit: string) => status.units.find((u) => u.name === unit)?.instances[0]?.pid;
    const answer = await fetch(`${status.gatewayUrl}/api/hit`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
      signal: AbortSignal.timeout(10_000),
    });
    expect(answer.status).toBeLessThan(300);
    const traceId = answer.headers.get("x-trace-id") ?? "";
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const store = sqliteTraceStore({ file: join(dataDir, TRACE_FILE), readOnly: true });
    try {
      let seen = new Set<number>();
      await until(
        async () => {
          seen = new Set((await store.trace(traceId)).map((s) => Number(s.instance?.split("-").pop())));
          return seen.has(pidOf("edge") ?? -1) && seen.has(pidOf("front") ?? -1);
        },
        30_000,
        "the gateway's and the front's spans in the dashboard's store",
        () => `instances seen: ${[...seen].join(", ")}`,
        200,
      );
    } finally {
      await store.close();
    }
  });

  it("stops with the supervisor, removing dashboard.json", { timeout: 90_000 }, async () => {
    up.child.kill("SIGINT");
    expect(await withTimeout(up.closed, 60_000, "flotilla up to stop")).toBe(0);
    expect(existsSync(join(dataDir, "dashboard.json"))).toBe(false);
  });
});

describe("flotilla dev serves the dashboard open", () => {
  const copies = new FixtureCopies();
  let nats: NatsServerHandle | undefined;
  let dev: ChildProcess | undefined;

  afterAll(async () => {
    // The dev process leads its own process group: its units die with it.
    if (dev?.pid !== undefined && dev.exitCode === null) {
      try {
        process.kill(-dev.pid, "SIGKILL");
      } catch {}
    }
    await nats?.stop().catch(() => {});
    copies.remove();
  }, 30_000);

  it("prints the dashboard's URL; its API asks for no token", { timeout: 120_000 }, async () => {
    nats = await startNatsServer({ startTimeoutMs: 10_000, stopGraceMs: 3_000 });
    const dir = copies.make();
    let out = "";
    const child = spawn(
      process.execPath,
      [join(repositoryRoot, "packages/cli/bin/flotilla.js"), "dev", "--port", "0", "--transport", nats.url],
      {
        cwd: dir,
        env: { ...process.env, FLOTILLA_LOG_LEVEL: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    dev = child;
    child.stdout?.on("data", (d: Buffer) => (out += d));
    child.stderr?.on("data", (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    await until(
      () => /watching \d+ directories/.test(out) || child.exitCode !== null,
      90_000,
      "flotilla dev",
      () => out,
    );
    const dashboard = /dashboard on (http:\/\/\S+) \(open: development\)/.exec(out)?.[1];
    expect(dashboard, out).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_flotilla$/);
    const topology = await http(`${new URL(dashboard ?? "").origin}/_flotilla/api/topology`);
    expect(topology.status).toBe(200);
    expect((topology.body as { services: { name: string }[] }).services.map((s) => s.name)).toEqual(["front", "tally"]);
    child.kill("SIGINT");
    expect(await withTimeout(exited, 60_000, "flotilla dev to stop")).toBe(0);
  });
});
