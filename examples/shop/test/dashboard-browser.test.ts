/**
 * The dashboard in a real browser: Debian's Chromium, driven by playwright-core, against the embedded shop.
 * Skipped where /usr/bin/chromium is absent outside CI (.ci/run installs it; in CI its absence fails).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningApp, runApp } from "@flotilla/app";
import { MemoryRegistry } from "@flotilla/core";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shopApp from "../src/app.js";
import {
  accessibilityViolations,
  BROWSER_RUNS,
  browserSuite,
  launchChromium,
  openDashboard,
  watchedPage,
} from "./support/browser.js";
import { ShopClient } from "./support/shop-client.js";

describe.skipIf(!BROWSER_RUNS)(browserSuite("the dashboard in Chromium"), () => {
  let shop: RunningApp;
  let dataDir: string;
  let browser: Browser;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-browser-"));
    shop = await runApp(shopApp, {
      dataDir,
      gatewayPort: 0,
      listenHost: "127.0.0.1",
      registry: new MemoryRegistry(),
      dashboard: { refreshMs: 250 },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await shop?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("asks for an admin token, then shows the live topology, with nothing fetched from elsewhere", async () => {
    const url = shop.url ?? "";
    const origin = new URL(url).origin;
    const { authorization } = await new ShopClient(url).signIn("admin@flotilla.dev", "admin-password");
    const { page, elsewhere, problems } = await watchedPage(browser, origin);
    await openDashboard(page, `${url}/_flotilla`, (authorization ?? "").slice("Bearer ".length));

    const table = page.getByRole("table", { name: "Instances by service" });
    await table.waitFor();
    for (const service of shop.host.services) {
      await expect.poll(() => table.getByRole("rowheader", { name: service, exact: true }).count()).toBe(1);
    }
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Live");

    // Keyboard: each service of the graph is a link, reached with Tab, that leads to its instances.
    let focused = "";
    for (let i = 0; i < 30 && !focused.startsWith("catalog:"); i++) {
      await page.keyboard.press("Tab");
      focused = (await page.locator(":focus").getAttribute("aria-label")) ?? "";
    }
    expect(focused).toMatch(/^catalog: up, 1 instances$/);
    await page.keyboard.press("Enter");
    // The page routes by hash: the link selects the service in the view's search, which focuses its instances.
    await expect.poll(() => new URL(page.url()).hash).toBe("#/topology?service=catalog");
    await expect.poll(() => page.locator(":focus").getAttribute("id")).toBe("service-catalog");

    // The screenshot "dashboard-topology" is taken after traffic, by dashboard-graph-browser.test.ts.
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("passes axe-core's WCAG 2 A and AA checks, on the token form and on the topology", async () => {
    const url = shop.url ?? "";
    const { authorization } = await new ShopClient(url).signIn("admin@flotilla.dev", "admin-password");
    // Only so axe's script can be added to the page: the page's own policy is checked by the test above.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${url}/_flotilla`);
    const tokenInput = page.getByLabel("Admin bearer token");
    await tokenInput.waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await tokenInput.fill((authorization ?? "").slice("Bearer ".length));
    await page.getByRole("button", { name: "Open the dashboard" }).click();
    await page.getByRole("table", { name: "Instances by service" }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await context.close();
  });
});
