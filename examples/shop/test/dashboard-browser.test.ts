/**
 * The dashboard in a real browser: Debian's Chromium, driven by playwright-core, against the embedded shop.
 * Skipped where /usr/bin/chromium is absent outside CI (.ci/run installs it; in CI its absence fails).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningApp, runApp } from "@flotilla/app";
import { MemoryRegistry } from "@flotilla/core";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shopApp from "../src/app.js";
import { ShopClient } from "./support/shop-client.js";

const CHROMIUM = "/usr/bin/chromium";
const runs = existsSync(CHROMIUM) || process.env.CI === "true";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
/** axe-core's WCAG 2 A and AA rules on the page as it is: each violation as `rule: how many elements`. */
async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(
    "axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } })" +
      ".then((r) => r.violations.map((v) => v.id + ': ' + v.nodes.length))",
  );
}
/** Where the views' screenshots are kept (FLOTILLA_SCREENSHOTS, else a folder in the temporary directory). */
const SCREENSHOTS = process.env.FLOTILLA_SCREENSHOTS ?? join(tmpdir(), "flotilla-screenshots");

describe.skipIf(!runs)(
  runs ? "the dashboard in Chromium" : `the dashboard in Chromium: skipped, no ${CHROMIUM} here (CI installs it)`,
  () => {
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
      browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
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
      const page = await browser.newPage();
      const elsewhere: string[] = [];
      const problems: string[] = [];
      // Offline: anything not asked of the gateway is refused and remembered.
      await page.route("**/*", (route) => {
        if (route.request().url().startsWith(origin)) return route.continue();
        elsewhere.push(route.request().url());
        return route.abort();
      });
      page.on("pageerror", (err) => problems.push(err.message));
      page.on("console", (message) => {
        // The API's 401 before the token is given is expected; a CSP violation or a script error is not.
        if (message.type() === "error" && !message.text().includes("401")) problems.push(message.text());
      });

      await page.goto(`${url}/_flotilla`);
      const tokenInput = page.getByLabel("Admin bearer token");
      await tokenInput.waitFor();
      await tokenInput.fill((authorization ?? "").slice("Bearer ".length));
      await tokenInput.press("Enter");

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
      await expect.poll(() => new URL(page.url()).hash).toBe("#service-catalog");

      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, "dashboard-topology.png"), fullPage: true });
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
  },
);
