/**
 * @module The dashboard linked to a supervisor in tests: `flotilla up` of a one-unit fixture app (its own
 * data dir, no autoscaling) and the embedded shop whose gateway is given the supervisor's control URL and
 * token by the environment, as app-dashboard.ts reads them.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningApp, runApp } from "@flotilla/app";
import { startUp } from "../../../../packages/supervisor/test/helpers.js";
import shopApp from "../../src/app.js";

export interface LinkedSupervisor {
  readonly shop: RunningApp;
  /** The supervisor's control server and token (`<data dir>/supervisor.json`). */
  readonly link: { readonly url: string; readonly token: string };
  /** The supervisor's `/status`, read directly. */
  status(): Promise<{ units: { name: string; desired: number; instances: { state: string }[] }[] }>;
  stop(): Promise<void>;
}

export async function linkedSupervisor(): Promise<LinkedSupervisor> {
  const upDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-up-"));
  chmodSync(upDir, 0o755); // as root, PostgreSQL runs as an unprivileged user who must enter it
  const shopDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-shop-"));
  const up = await startUp([
    "--app",
    "examples/shop/test/fixtures/scaling-app.ts",
    "--data-dir",
    upDir,
    "--port",
    "0",
    "--no-autoscale",
  ]);
  const link = JSON.parse(readFileSync(join(upDir, "supervisor.json"), "utf8")) as { url: string; token: string };
  process.env.FLOTILLA_SUPERVISOR_URL = link.url;
  process.env.FLOTILLA_SUPERVISOR_TOKEN = link.token;
  let shop: RunningApp;
  try {
    shop = await runApp(shopApp, { dataDir: shopDir, gatewayPort: 0, listenHost: "127.0.0.1", dashboard: {} });
  } finally {
    delete process.env.FLOTILLA_SUPERVISOR_URL;
    delete process.env.FLOTILLA_SUPERVISOR_TOKEN;
  }
  return {
    shop,
    link,
    async status() {
      const res = await fetch(`${link.url}/status`, { headers: { authorization: `Bearer ${link.token}` } });
      return (await res.json()) as never;
    },
    async stop() {
      await shop.stop();
      up.child.kill("SIGTERM");
      await up.closed;
      for (const dir of [upDir, shopDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}
