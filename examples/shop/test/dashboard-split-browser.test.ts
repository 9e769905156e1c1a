/**
 * The dashboard of the split shop in a real browser: `flotilla up` runs the shop (nats-server, one
 * process per unit, the legacy monolith as a companion) and serves the dashboard; Chromium opens it with
 * the admin token it printed, shows the real traffic of a customer's journey (the order's saga, its trace,
 * the calls observed between the units), and reaches every view the server lists from the navigation,
 * by keyboard.
 * Skipped where /usr/bin/chromium is absent outside CI.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@flotilla/testing";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until, withTimeout } from "../../../packages/cli/test/split-helpers.js";
import { startUp, type Up } from "../../../packages/supervisor/test/helpers.js";
import {
  accessibilityViolations,
  BROWSER_RUNS,
  browserSuite,
  launchChromium,
  openDashboard,
  screenshot,
  watchedPage,
} from "./support/browser.js";
import { customerJourney } from "./support/journey.js";

interface PanelEntry {
  readonly id: string;
  readonly title: string;
}

/** Waits until the view in `main` shows something other than its loading line. */
async function viewShown(page: Page): Promise<void> {
  await expect
    .poll(async () => (await page.locator("#view").innerText()).trim(), { timeout: 20_000 })
    .not.toMatch(/^(Loading…)?$/);
}

describe.skipIf(!BROWSER_RUNS)(browserSuite("the split shop's dashboard under flotilla up, in Chromium"), () => {
  let up: Up;
  let dataDir: string;
  let browser: Browser;
  let url: string;
  let token: string;
  let panels: PanelEntry[];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-up-browser-"));
    chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as an unprivileged user who must enter it
    const legacyPort = await freePort();
    const legacy = `env PORT=${legacyPort} LEGACY_DB=${join(dataDir, "legacy.db")} node --import tsx examples/legacy-monolith/src/main.ts`;
    up = await startUp([
      "--app",
      "examples/shop/src/app.ts",
      "--data-dir",
      dataDir,
      "--port",
      "0",
      "--no-autoscale",
      "--companion",
      `legacy=${legacy}`,
      "--env",
      `FLOTILLA_UPSTREAM_LEGACY=http://127.0.0.1:${legacyPort}`,
    ]);
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
    const res = await fetch(`${new URL(url).origin}/_flotilla/api/panels`, {
      headers: { authorization: `Bearer ${token}` },
    });
    panels = ((await res.json()) as { panels: PanelEntry[] }).panels;
    // Real traffic through the split shop: browse, sign in, order, shipped, notified.
    await customerJourney(up.gatewayUrl, { timeoutMs: 60_000 });
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (up && up.child.exitCode === null) {
      up.child.kill("SIGINT");
      await withTimeout(up.closed, 60_000, "flotilla up to stop").catch(() => up.child.kill("SIGKILL"));
    }
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }, 90_000);

  it("shows the journey's order: its saga, its trace across the units, and the calls observed between them", {
    timeout: 180_000,
  }, async () => {
    const origin = new URL(url).origin;
    const { page, elsewhere, problems } = await watchedPage(browser, origin);
    await openDashboard(page, `${url}#/sagas`, token);
    // The orders unit's sagas, read through its ops port: the journey's checkout completed.
    const sagas = page.getByRole("table", { name: "Sagas, most recently updated first" });
    await sagas.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => sagas.getByText("completed", { exact: true }).count(), { timeout: 30_000 })
      .toBeGreaterThan(0);
    // The order's trace, assembled from the spans every unit exported to the supervisor's dashboard.
    await page.goto(`${url}#/traces?route=${encodeURIComponent("POST /api/v1/orders")}`);
    const found = page.getByRole("table", { name: "Traces found" });
    await found.waitFor({ timeout: 30_000 });
    await expect.poll(() => found.getByRole("row").count(), { timeout: 30_000 }).toBeGreaterThan(1);
    await expect.poll(async () => (await found.innerText()).includes("payments"), { timeout: 30_000 }).toBe(true);
    // The calls observed between the units: the gateway calls orders, orders calls catalog.
    await page.goto(`${url}#/topology`);
    const observed = page.getByRole("table", { name: "Observed calls and events" });
    await observed.waitFor({ timeout: 30_000 });
    await expect
      .poll(async () => (await observed.innerText()).includes("catalog.getProducts"), { timeout: 30_000 })
      .toBe(true);
    await screenshot(page, "dashboard-split-traffic");
    expect(problems).toEqual([]);
    expect(elsewhere).toEqual([]);
    await page.close();
  });

  it("opens every view from the navigation by keyboard, each without a script error or CSP violation", {
    timeout: 180_000,
  }, async () => {
    expect(panels.map((p) => p.id)).toContain("topology");
    const origin = new URL(url).origin;
    const { page, elsewhere, problems } = await watchedPage(browser, origin);
    await openDashboard(page, url, token);
    await page.getByRole("navigation", { name: "Views" }).waitFor();
    // The topology of the split shop: its services, from the registry.
    const table = page.getByRole("table", { name: "Instances by service" });
    await table.waitFor();
    await expect.poll(() => table.getByRole("rowheader", { name: "catalog", exact: true }).count()).toBe(1);
    // Every service has its instances, read from the registry (the supervisor started them all).
    await expect.poll(() => table.getByText("no instance running").count(), { timeout: 20_000 }).toBe(0);
    for (const panel of panels) {
      // Tab to the view's link (from wherever the focus is), then Enter.
      let focused = "";
      for (let i = 0; i < 60 && focused !== panel.title; i++) {
        await page.keyboard.press("Tab");
        const link = page.locator('nav[aria-label="Views"] a:focus');
        focused = (await link.count()) === 1 ? (await link.innerText()).trim() : "";
      }
      expect(focused, `the navigation's link to ${panel.id}`).toBe(panel.title);
      await page.keyboard.press("Enter");
      await expect.poll(() => new URL(page.url()).hash).toBe(`#/${panel.id}`);
      await viewShown(page);
      await expect
        .poll(() => page.getByRole("link", { name: panel.title, exact: true }).getAttribute("aria-current"))
        .toBe("page");
      await screenshot(page, `dashboard-split-${panel.id}`);
      expect(problems, `on ${panel.id}`).toEqual([]);
    }
    expect(elsewhere).toEqual([]);
    await page.close();
  });

  it("passes axe-core's WCAG 2 A and AA checks on every view", { timeout: 180_000 }, async () => {
    // Only so axe's script may be added: the page's own policy is checked by the test above.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await openDashboard(page, url, token);
    await page.getByRole("navigation", { name: "Views" }).waitFor();
    for (const panel of panels) {
      await page.goto(`${url}#/${panel.id}`);
      await viewShown(page);
      expect(await accessibilityViolations(page), `on ${panel.id}`).toEqual([]);
    }
    await context.close();
  });
});
