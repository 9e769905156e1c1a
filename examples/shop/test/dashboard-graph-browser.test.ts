/**
 * The Topology view's observed edges and pub/sub map after a real checkout of the embedded shop, and the
 * Architecture fitness view's findings on a small app that has some, in Chromium (see support/browser.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningApp, runApp } from "@flotilla/app";
import { MemoryRegistry } from "@flotilla/core";
import { waitFor } from "@flotilla/testing";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shopApp from "../src/app.js";
import { chainApp } from "./fixtures/chain-app.js";
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

describe.skipIf(!BROWSER_RUNS)(browserSuite("observed edges and fitness in Chromium"), () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe("the shop after a checkout", () => {
    let shop: RunningApp;
    let dataDir: string;
    let token: string;
    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "flotilla-graph-browser-"));
      shop = await runApp(shopApp, {
        dataDir,
        gatewayPort: 0,
        listenHost: "127.0.0.1",
        registry: new MemoryRegistry(),
        dashboard: { refreshMs: 250 },
      });
      const client = new ShopClient(shop.url ?? "");
      token = ((await client.signIn("admin@flotilla.dev", "admin-password")).authorization ?? "").slice(
        "Bearer ".length,
      );
      const demo = await client.signIn("demo@flotilla.dev", "demo-password");
      const placed = await client.placeOrder(demo, {
        items: [{ productId: "prod-french-press", quantity: 1 }],
        payment: { card: CARDS.ok },
        shipping: ADDRESS,
      });
      expect(placed.status).toBe(202);
      await client.settled(demo, placed.body.orderId as string);
      // The checkout's spans are in the store once its payment's event shows on the map.
      await waitFor(
        async () => {
          const res = await fetch(`${shop.url}/_flotilla/api/topology/edges`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const graph = (await res.json()) as { pubsub: { type: string; publishers: unknown[] }[] };
          return graph.pubsub.some((e) => e.type === "payments.PaymentCharged" && e.publishers.length > 0);
        },
        { timeoutMs: 20_000, intervalMs: 200, what: "the checkout's spans" },
      );
    }, 90_000);
    afterAll(async () => {
      await shop?.stop();
      if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    });

    it("draws the observed calls and events, lists them in words, and maps the pub/sub with its mismatches", async () => {
      const url = shop.url ?? "";
      const { page, elsewhere, problems } = await watchedPage(browser, new URL(url).origin);
      await openDashboard(page, `${url}/_flotilla#/topology`, token);

      const edges = page.getByRole("table", { name: "Observed calls and events" });
      await edges.waitFor();
      for (const pair of ["gateway → orders", "orders → catalog", "orders → payments", "orders → notifications"]) {
        await expect.poll(() => edges.getByRole("rowheader", { name: pair, exact: true }).count()).toBeGreaterThan(0);
      }
      const catalogRow = edges
        .getByRole("row")
        .filter({ has: page.getByRole("rowheader", { name: "orders → catalog" }) });
      expect(await catalogRow.first().textContent()).toMatch(
        /calls: catalog\.getProducts.*\/min.*p50 [\d.]+ ms, p95 [\d.]+ ms/,
      );
      // The graph: solid arrows for calls, dashed for events, each labelled with its rate.
      expect(await page.locator("svg .edge-observed.call").count()).toBeGreaterThanOrEqual(4);
      expect(await page.locator("svg .edge-observed.event").count()).toBeGreaterThanOrEqual(2);
      expect(await page.locator("svg .edge-observed.call text").first().textContent()).toMatch(
        /\/min, [\d.]+% errors, p95/,
      );

      const map = page.getByRole("table", { name: /^Pub\/sub map/ });
      const placed = map.getByRole("row").filter({ has: page.getByRole("rowheader", { name: "orders.OrderPlaced" }) });
      expect(await placed.textContent()).toContain("catalog.sales.orderPlaced (1)");
      const charged = map
        .getByRole("row")
        .filter({ has: page.getByRole("rowheader", { name: "payments.PaymentCharged" }) });
      expect(await charged.textContent()).toContain(
        "Mismatch: published once by payments, consumed by no one: no service subscribes to it",
      );

      await screenshot(page, "dashboard-topology");
      expect(elsewhere).toEqual([]);
      expect(problems).toEqual([]);
      await page.close();
    });

    it("passes axe-core's checks with the observed edges and the pub/sub map shown", async () => {
      const context = await browser.newContext({ bypassCSP: true });
      const page = await context.newPage();
      await openDashboard(page, `${shop.url}/_flotilla#/topology`, token);
      await page.getByRole("table", { name: /^Pub\/sub map/ }).waitFor();
      expect(await accessibilityViolations(page)).toEqual([]);
      await context.close();
    });
  });

  describe("an app with a long chain and a chatty pair", () => {
    let app: RunningApp;
    let dataDir: string;
    let traceId: string;
    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "flotilla-fitness-browser-"));
      // Open to anyone: a test app with no identity service.
      app = await runApp(chainApp, {
        dataDir,
        gatewayPort: 0,
        listenHost: "127.0.0.1",
        dashboard: { policies: [], refreshMs: 250 },
      });
      const res = await fetch(`${app.url}/chain`);
      expect(res.status).toBe(200);
      traceId = /^00-([0-9a-f]{32})-/.exec(res.headers.get("traceparent") ?? "")?.[1] ?? "";
      expect(traceId).not.toBe("");
    }, 60_000);
    afterAll(async () => {
      await app?.stop();
      if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    });

    it("lists the findings with links to the traces that show them, and filters them by kind in the URL", async () => {
      const url = app.url ?? "";
      const { page, elsewhere, problems } = await watchedPage(browser, new URL(url).origin);
      await openDashboard(page, `${url}/_flotilla#/fitness`, undefined);
      const findings = page.getByRole("table", { name: "Findings" });
      await findings.waitFor();
      const chain = findings
        .getByRole("row")
        .filter({ has: page.getByRole("rowheader", { name: "Synchronous chain longer than two hops" }) });
      await expect.poll(() => chain.count(), { timeout: 20_000 }).toBe(1);
      expect(await chain.textContent()).toContain("gateway → a → b → c → d");
      const link = chain.getByRole("link", { name: `Trace ${traceId}` });
      expect(await link.getAttribute("href")).toBe(`#/traces?trace=${traceId}`);
      expect(await findings.getByRole("rowheader", { name: "Chatty pair", exact: true }).count()).toBe(1);

      await screenshot(page, "dashboard-fitness");

      await page.getByLabel("Kind of finding").selectOption("chatty-pair");
      await expect.poll(() => new URL(page.url()).hash).toBe("#/fitness?kind=chatty-pair");
      const filtered = page.getByRole("table", { name: "Findings: Chatty pair" });
      await filtered.waitFor();
      expect(await filtered.getByRole("rowheader").allTextContents()).toEqual(["Chatty pair"]);
      expect(await filtered.textContent()).toContain("a calls d up to 5 times in one request");
      expect(elsewhere).toEqual([]);
      expect(problems).toEqual([]);
      await page.close();
    });

    it("passes axe-core's checks on the fitness view", async () => {
      const context = await browser.newContext({ bypassCSP: true });
      const page = await context.newPage();
      await page.goto(`${app.url}/_flotilla#/fitness`);
      await page.getByRole("rowheader", { name: "Chatty pair", exact: true }).waitFor({ timeout: 20_000 });
      expect(await accessibilityViolations(page)).toEqual([]);
      await context.close();
    });
  });
});
