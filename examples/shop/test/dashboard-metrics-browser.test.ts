/**
 * The Metrics view in a real browser (Chromium by playwright-core) against the embedded shop after real
 * traffic: uPlot's charts drawn under the page's CSP, the text summary with the exact counts, the choice
 * of series kept in the URL, axe-core clean, a screenshot; linked to `flotilla up`'s supervisor, a unit
 * scaled from the page. Skipped where /usr/bin/chromium is absent outside CI.
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
  screenshot,
  watchedPage,
} from "./support/browser.js";
import { type LinkedSupervisor, linkedSupervisor } from "./support/linked-supervisor.js";
import { ShopClient } from "./support/shop-client.js";

describe.skipIf(!BROWSER_RUNS)(browserSuite("the Metrics view in Chromium"), () => {
  let shop: RunningApp;
  let dataDir: string;
  let browser: Browser;
  let url: string;
  let token: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-metrics-browser-"));
    shop = await runApp(shopApp, {
      dataDir,
      gatewayPort: 0,
      listenHost: "127.0.0.1",
      registry: new MemoryRegistry(),
      dashboard: {},
    });
    url = shop.url ?? "";
    const { authorization } = await new ShopClient(url).signIn("admin@flotilla.dev", "admin-password");
    token = (authorization ?? "").slice("Bearer ".length);
    // Real traffic: 6 answered, 2 refused at the edge.
    for (let i = 0; i < 6; i++) await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 2; i++) await fetch(`${url}/api/v1/me`);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await shop?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("draws the charts of the chosen route with its counts in words, live, with nothing fetched elsewhere", {
    timeout: 90_000,
  }, async () => {
    const origin = new URL(url).origin;
    const { page, elsewhere, problems } = await watchedPage(browser, origin);
    await openDashboard(page, `${url}/_flotilla#/metrics?kind=route&series=GET+%2Fapi%2Fv1%2Fme`, token);

    const totals = page.locator("#red-totals");
    await totals.waitFor();
    expect(await totals.textContent()).toMatch(
      /^GET \/api\/v1\/me: 8 requests in total, 0 server errors \(5xx\), 2 client errors \(4xx\)\./,
    );
    // Three charts of the route, each a canvas uPlot drew, with a heading and a summary.
    for (const name of [
      "Rate: requests per second",
      "Errors: share of the interval",
      "Duration: median and 95th percentile",
    ]) {
      const figure = page.getByRole("figure", { name });
      await expect.poll(() => figure.locator("canvas").count()).toBe(1);
    }
    expect(await page.getByLabel("Measure").inputValue()).toBe("route");
    expect(await page.getByLabel("Route", { exact: true }).inputValue()).toBe("GET /api/v1/me");
    const table = page.getByRole("table", { name: "Routes: totals and the latest interval" });
    const row = table.locator('tr[data-key="GET /api/v1/me"]');
    expect(await row.locator("td").first().textContent()).toBe("8");

    // The next sample arrives over the event stream: the interval's point, in words too.
    await expect.poll(() => page.getByRole("status").first().textContent(), { timeout: 30_000 }).toBe("Live");
    await fetch(`${url}/api/v1/me`);
    await expect
      .poll(() => totals.textContent(), { timeout: 30_000, interval: 500 })
      .toMatch(
        /9 requests in total, 0 server errors \(5xx\), 3 client errors \(4xx\)\. In the latest 1 requests: .* 100 % client errors/,
      );

    // Another measure: the choice goes into the URL, so it survives a reload.
    await page.getByLabel("Measure").selectOption("action");
    await expect.poll(() => decodeURIComponent(new URL(page.url()).hash)).toMatch(/^#\/metrics\?kind=action/);
    await page.getByRole("table", { name: "Actions: totals and the latest interval" }).waitFor();
    await page.getByRole("button", { name: "identity.me", exact: true }).click();
    await expect.poll(() => totals.textContent()).toMatch(/^identity\.me: 6 calls in total, 0 failed\./);
    await page.reload();
    await expect.poll(() => totals.textContent(), { timeout: 30_000 }).toMatch(/^identity\.me: 6 calls in total/);

    await page.getByLabel("Measure").selectOption("route");
    await page.getByLabel("Route", { exact: true }).selectOption("GET /api/v1/me");
    await expect.poll(() => totals.textContent()).toMatch(/^GET \/api\/v1\/me:/);
    await screenshot(page, "dashboard-metrics");
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("passes axe-core's WCAG 2 A and AA checks", { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await openDashboard(page, `${url}/_flotilla#/metrics`, token);
    await page.locator("#red-totals").waitFor();
    await expect.poll(() => page.locator(".chart canvas").count()).toBeGreaterThanOrEqual(3);
    expect(await accessibilityViolations(page)).toEqual([]);
    await context.close();
  });
});

describe.skipIf(!BROWSER_RUNS)(browserSuite("the Metrics view's scaling in Chromium"), () => {
  let linked: LinkedSupervisor;
  let browser: Browser;
  let url: string;
  let token: string;
  beforeAll(async () => {
    linked = await linkedSupervisor();
    url = linked.shop.url ?? "";
    const { authorization } = await new ShopClient(url).signIn("admin@flotilla.dev", "admin-password");
    token = (authorization ?? "").slice("Bearer ".length);
    browser = await launchChromium();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await linked?.stop();
  }, 120_000);

  it("scales a unit from the page after a confirmation: the supervisor runs two, the decision is listed", {
    timeout: 180_000,
  }, async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(err.message));
    await openDashboard(page, `${url}/_flotilla#/metrics`, token);
    const units = page.getByRole("table", { name: "Deployment units" });
    await units.waitFor();
    expect(await units.locator('tr[data-unit="pinger"] .wanted').textContent()).toBe("1");
    await expect
      .poll(() => page.getByRole("figure", { name: "pinger: instances over time" }).locator("canvas").count())
      .toBe(1);

    const form = page.locator("form#scale");
    await form.getByLabel("Unit").selectOption("pinger");
    await form.getByLabel("Instances").fill("2");
    await form.getByRole("button", { name: "Scale…" }).click();
    const question = form.getByRole("group", { name: "Scale pinger from 1 to 2 instances?" });
    await question.waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await question.getByRole("button", { name: "Confirm" }).click();
    await expect
      .poll(() => form.getByRole("status").textContent(), { timeout: 120_000, interval: 500 })
      .toBe("Scaled pinger from 1 to 2 instances.");
    expect((await linked.status()).units[0]?.desired).toBe(2);
    await expect
      .poll(() => page.locator(".decisions li").first().textContent(), { timeout: 30_000 })
      .toMatch(/pinger: 1 → 2 instances \(manual\)\. dashboard: /);
    await expect.poll(() => units.locator('tr[data-unit="pinger"] .wanted').textContent()).toBe("2");
    await screenshot(page, "dashboard-metrics-scaling");
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
