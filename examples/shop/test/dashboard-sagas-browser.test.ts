/**
 * The Sagas view in a real browser (Debian's Chromium, driven by playwright-core) against the embedded
 * shop: filtering by status, opening a compensated saga's timeline by keyboard, axe-core's checks.
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
import { ADDRESS, CARDS, ShopClient } from "./support/shop-client.js";

describe.skipIf(!BROWSER_RUNS)(browserSuite("the Sagas view in Chromium"), () => {
  let shop: RunningApp;
  let dataDir: string;
  let browser: Browser;
  let token: string;
  let completed: string;
  let compensated: string;
  let place: (card: string) => Promise<string>;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-sagas-browser-"));
    shop = await runApp(shopApp, {
      dataDir,
      gatewayPort: 0,
      listenHost: "127.0.0.1",
      registry: new MemoryRegistry(),
      dashboard: { refreshMs: 250 },
    });
    const client = new ShopClient(shop.url ?? "");
    const demo = await client.signIn("demo@flotilla.dev", "demo-password");
    place = async (card: string) => {
      const placed = await client.placeOrder(demo, {
        items: [{ productId: "prod-french-press", quantity: 1 }],
        payment: { card },
        shipping: ADDRESS,
      });
      expect(placed.status).toBe(202);
      await client.settled(demo, placed.body.orderId);
      return placed.body.orderId as string;
    };
    completed = await place(CARDS.ok);
    compensated = await place(CARDS.declined);
    const { authorization } = await client.signIn("admin@flotilla.dev", "admin-password");
    token = (authorization ?? "").slice("Bearer ".length);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await shop?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("filters by status, opens a compensated saga's timeline by keyboard, updates live, and keeps both in the URL", async () => {
    const url = shop.url ?? "";
    const { page, elsewhere, problems } = await watchedPage(browser, new URL(url).origin);
    await openDashboard(page, `${url}/_flotilla#/sagas`, token);

    const table = page.getByRole("table", { name: "Sagas, most recently updated first" });
    await table.getByRole("rowheader", { name: completed }).waitFor();
    await table.getByRole("rowheader", { name: compensated }).waitFor();
    // Status in words, not only in colour.
    await expect.poll(() => table.getByRole("cell", { name: "compensated (undone)" }).count()).toBe(1);

    await page.getByLabel("Status").selectOption("compensated");
    await expect.poll(() => new URL(page.url()).hash).toBe("#/sagas?status=compensated");
    await expect.poll(() => table.getByRole("rowheader").count()).toBe(1);
    await table.getByRole("rowheader", { name: compensated }).waitFor();

    // Keyboard only: Tab to the saga's link, Enter opens its timeline.
    let focused = "";
    for (let i = 0; i < 40 && focused !== compensated; i++) {
      await page.keyboard.press("Tab");
      focused = String(await page.evaluate("document.activeElement?.textContent ?? ''")).trim();
    }
    expect(focused).toBe(compensated);
    expect(await page.evaluate("document.activeElement?.tagName")).toBe("A");
    await page.keyboard.press("Enter");
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/sagas?status=compensated&saga=${compensated}`);

    const timeline = page.getByRole("region", { name: `Timeline of saga ${compensated}` });
    const items = timeline.getByRole("listitem");
    await expect.poll(() => items.count()).toBe(9);
    const texts = await items.allTextContents();
    expect(texts[4]).toContain("Step charge failed: CARD_DECLINED");
    expect(texts[5]).toMatch(/compensation.*Compensating from charge/);
    expect(texts[7]).toMatch(/compensation.*Compensation of reserve succeeded/);
    expect(texts[8]).toContain("Saga compensated");
    // Durations between entries.
    expect(texts[1]).toMatch(/\+\d+(\.\d)? m?s/);

    // Live: a saga that ends while the view is open joins the list without a reload.
    const another = await place(CARDS.declined);
    await table.getByRole("rowheader", { name: another }).waitFor({ timeout: 20_000 });
    expect(await table.getByRole("rowheader").count()).toBe(2);

    // A reload brings back the filter and the open timeline.
    await page.reload();
    await timeline.getByRole("listitem").first().waitFor();
    expect(await page.getByLabel("Status").inputValue()).toBe("compensated");

    await screenshot(page, "dashboard-sagas");
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("passes axe-core's WCAG 2 A and AA checks with a timeline open", async () => {
    const url = shop.url ?? "";
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await openDashboard(page, `${url}/_flotilla#/sagas?saga=${compensated}`, token);
    await page
      .getByRole("region", { name: `Timeline of saga ${compensated}` })
      .getByRole("listitem")
      .first()
      .waitFor();
    await page.getByRole("table", { name: "Sagas by type and status" }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await context.close();
  });
});
