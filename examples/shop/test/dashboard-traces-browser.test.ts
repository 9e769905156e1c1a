/**
 * The Traces view in Chromium against the embedded shop: a search by service and status after real
 * traffic, kept in the URL through a reload and Back, the list following new traffic live, a trace's
 * waterfall with its critical path, a span's attributes opened by keyboard; nothing fetched elsewhere, no
 * script error or CSP violation, axe-core's WCAG 2 A and AA rules, and a screenshot of each.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningApp, runApp } from "@flotilla/app";
import { MemoryRegistry } from "@flotilla/core";
import type { SpanRecord } from "@flotilla/telemetry";
import { waitFor } from "@flotilla/testing";
import type { Browser, Page } from "playwright-core";
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
import { ADDRESS, CARDS, type Headers, ShopClient } from "./support/shop-client.js";

describe.skipIf(!BROWSER_RUNS)(browserSuite("the Traces view in Chromium"), () => {
  let shop: RunningApp;
  let dataDir: string;
  let browser: Browser;
  let url: string;
  let client: ShopClient;
  let token: string;
  let checkoutTrace: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-traces-browser-"));
    shop = await runApp(shopApp, {
      dataDir,
      gatewayPort: 0,
      listenHost: "127.0.0.1",
      registry: new MemoryRegistry(),
      dashboard: {},
    });
    url = shop.url ?? "";
    client = new ShopClient(url);
    const admin: Headers = await client.signIn("admin@flotilla.dev", "admin-password");
    token = (admin.authorization ?? "").slice("Bearer ".length);
    const demo = await client.signIn("demo@flotilla.dev", "demo-password");
    expect((await client.send("GET", "/api/v1/products", {})).status).toBe(200);
    const placed = await client.placeOrder(demo, {
      items: [{ productId: "prod-french-press", quantity: 1 }],
      payment: { card: CARDS.declined },
      shipping: ADDRESS,
    });
    expect(placed.status).toBe(202);
    await client.settled(demo, placed.body.orderId);
    await waitFor(
      async () => {
        const found = await fetch(`${url}/_flotilla/api/traces?service=payments&status=error`, { headers: admin });
        const [trace] = ((await found.json()) as { traces: { traceId: string }[] }).traces;
        checkoutTrace = trace?.traceId ?? "";
        return checkoutTrace !== "";
      },
      { timeoutMs: 20_000, intervalMs: 250, what: "the declined checkout's trace" },
    );
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await shop?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  const results = (page: Page) => page.getByRole("table", { name: "Traces found" });
  const hashParams = (page: Page) => new URLSearchParams(new URL(page.url()).hash.replace(/^#\/traces\??/, ""));

  it("searches by service and status, keeps the search through a reload and Back, and follows new traffic", async () => {
    const origin = new URL(url).origin;
    const { page, elsewhere, problems } = await watchedPage(browser, origin);
    await openDashboard(page, `${url}/_flotilla#/traces`, token);
    await results(page).waitFor();

    await page.getByLabel("Service").selectOption("payments");
    await page.getByLabel("Status").selectOption("error");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => hashParams(page).toString()).toBe("service=payments&status=error");
    const checkoutRow = results(page).getByRole("rowheader", { name: "POST /api/v1/orders" });
    await expect.poll(() => checkoutRow.count()).toBeGreaterThan(0);
    // Every trace listed says in words that it failed.
    const statuses = await results(page).locator("tbody tr td:nth-child(6)").allTextContents();
    expect(statuses.length).toBeGreaterThan(0);
    for (const status of statuses) expect(status).toMatch(/^\d+ errors?$/);

    await page.reload();
    await results(page).waitFor();
    expect(await page.getByLabel("Service").inputValue()).toBe("payments");
    expect(await page.getByLabel("Status").inputValue()).toBe("error");
    await expect.poll(() => checkoutRow.count()).toBeGreaterThan(0);

    await page.getByLabel("Status").selectOption("ok");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => hashParams(page).get("status")).toBe("ok");
    await expect.poll(() => checkoutRow.count()).toBe(0);
    await page.goBack();
    await expect.poll(() => hashParams(page).get("status")).toBe("error");
    await expect.poll(() => page.getByLabel("Status").inputValue()).toBe("error");
    await expect.poll(() => checkoutRow.count()).toBeGreaterThan(0);
    await screenshot(page, "dashboard-traces");

    // Live: a route nobody has called yet appears once it is called, with no reload.
    await page.getByLabel("Route").fill("GET /api/v1/bestsellers");
    await page.getByLabel("Service").selectOption("");
    await page.getByLabel("Status").selectOption("");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => page.locator(".summary").textContent()).toMatch(/^No trace found/);
    expect((await client.send("GET", "/api/v1/bestsellers", {})).status).toBe(200);
    await expect
      .poll(() => results(page).getByRole("rowheader", { name: "GET /api/v1/bestsellers" }).count(), {
        timeout: 20_000,
      })
      .toBe(1);

    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("opens a trace's waterfall with its critical path marked, and a span's attributes by keyboard", async () => {
    const origin = new URL(url).origin;
    const { page, elsewhere, problems } = await watchedPage(browser, origin);
    await openDashboard(page, `${url}/_flotilla#/traces?service=payments&status=error`, token);
    await results(page).waitFor();
    await page.locator(`a[href$="trace=${checkoutTrace}"]`).click();
    await expect.poll(() => hashParams(page).get("trace")).toBe(checkoutTrace);
    expect(hashParams(page).get("service")).toBe("payments");

    const waterfall = page.getByRole("table", { name: "Spans of the trace, nested by parent, on its timeline" });
    await waterfall.waitFor();
    const api = (await (
      await fetch(`${url}/_flotilla/api/traces/${checkoutTrace}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { spans: SpanRecord[]; criticalPath: string[] };
    // Each span a row; those of the critical path say so in words, and the summary names them in order.
    await expect.poll(() => waterfall.locator("tbody tr").count()).toBe(api.spans.length);
    await expect
      .poll(() => waterfall.getByText("critical path", { exact: true }).count())
      .toBe(api.criticalPath.length);
    expect(await waterfall.locator("tr.critical .span-bar.on-path").count()).toBe(api.criticalPath.length);
    const summary = (await page.locator(".critical-summary").textContent()) ?? "";
    expect(summary).toContain(`Critical path (${api.criticalPath.length} of ${api.spans.length} spans`);
    expect(summary).toContain("gateway POST /api/v1/orders →");

    // The root's details, by keyboard: Tab from the link back to the search to its button, then Enter.
    await page.getByRole("link", { name: "Back to the search" }).focus();
    const focused = async () => (await page.locator(":focus").textContent())?.trim();
    for (let i = 0; i < 10 && (await focused()) !== "Show details of POST /api/v1/orders"; i++) {
      await page.keyboard.press("Tab");
    }
    expect(await focused()).toBe("Show details of POST /api/v1/orders");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByRole("button", { name: "Hide details of POST /api/v1/orders" }).count()).toBe(1);
    const details = page.locator(`#span-${api.spans.find((s) => s.parentSpanId === undefined)?.spanId}`);
    await expect.poll(() => details.textContent()).toContain("http.route");
    expect(await details.textContent()).toContain("/api/v1/orders");
    await screenshot(page, "dashboard-trace");

    await page.getByRole("link", { name: "Back to the search" }).click();
    await expect.poll(() => hashParams(page).toString()).toBe("service=payments&status=error");
    await results(page).waitFor();

    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("passes axe-core's WCAG 2 A and AA checks on the search and on a waterfall with a span open", async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await openDashboard(page, `${url}/_flotilla#/traces?status=error`, token);
    await results(page).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.goto(`${url}/_flotilla#/traces?trace=${checkoutTrace}`);
    await page.getByRole("button", { name: "Show details of POST /api/v1/orders" }).click();
    await page.getByRole("button", { name: "Hide details of POST /api/v1/orders" }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await context.close();
  });
});
