/**
 * The Event flow and Dead letters views in a real browser (Debian's Chromium via playwright-core) against the
 * embedded shop: a dead letter retried from the page goes, its audit entry shows; live messages arrive with
 * sensitive fields redacted; both views pass axe-core's WCAG 2 A and AA checks.
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
import {
  accessibilityViolations,
  BROWSER_RUNS,
  browserSuite,
  launchChromium,
  openDashboard,
  screenshot,
  watchedPage,
} from "./support/browser.js";
import { api, breakWelcomes, healWelcomes, register, WELCOME_GROUP, welcomed } from "./support/event-views.js";
import { type Headers, ShopClient } from "./support/shop-client.js";

describe.skipIf(!BROWSER_RUNS)(browserSuite("the Event flow and Dead letters views in Chromium"), () => {
  let shop: RunningApp;
  let dataDir: string;
  let browser: Browser;
  let url: string;
  let admin: Headers;
  let token: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-events-browser-"));
    shop = await runApp(shopApp, {
      dataDir,
      gatewayPort: 0,
      listenHost: "127.0.0.1",
      registry: new MemoryRegistry(),
      dashboard: {},
    });
    url = shop.url ?? "";
    admin = await new ShopClient(url).signIn("admin@flotilla.dev", "admin-password");
    token = (admin.authorization ?? "").slice("Bearer ".length);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await shop?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("retries a dead letter from the page, shows a letter's redacted payload and the audit trail", async () => {
    breakWelcomes(dataDir);
    const first = await register(url, "browser-a@example.org");
    await register(url, "browser-b@example.org");
    let ids: string[] = [];
    await waitFor(
      async () => {
        const { body } = await api(url, admin, `dead-letters?group=${WELCOME_GROUP}`);
        ids = body.letters.map((l: { id: string }) => l.id);
        return ids.length === 2;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "two dead letters" },
    );
    healWelcomes(dataDir);
    const [newer, older] = ids as [string, string];

    const { page, elsewhere, problems } = await watchedPage(browser, new URL(url).origin);
    await openDashboard(page, `${url}/_flotilla#/dead-letters`, token);
    const table = page.getByRole("table", { name: "Dead letters, newest first" });
    await table.waitFor();
    await expect
      .poll(() => table.getByRole("rowheader").allTextContents())
      .toEqual([`Letter ${newer}`, `Letter ${older}`]);

    // The older letter is the first user's: retry it, after the confirmation.
    await page.getByLabel(`Select letter ${older}`).check();
    await page.getByRole("button", { name: "Retry selected (1)" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Yes, retry" }).click();
    await expect.poll(() => page.getByRole("status").last().textContent()).toBe("Retried 1 of 1.");
    await expect.poll(() => table.getByRole("rowheader").allTextContents()).toEqual([`Letter ${newer}`]);
    await waitFor(() => welcomed(dataDir, first), { timeoutMs: 30_000, intervalMs: 100, what: "the retried welcome" });
    const audit = page.getByRole("table", { name: "Actions taken through the dashboard, newest first" });
    await expect.poll(() => audit.getByRole("row").nth(1).textContent()).toMatch(/dead-letter\.retry.*ok$/);

    await table.getByRole("link", { name: `Letter ${newer}` }).click();
    const details = page.getByRole("region", { name: `Dead letter ${newer}` });
    await details.waitFor();
    const payload = await details.locator("pre").textContent();
    expect(payload).toContain('"email": "[redacted]"');
    expect(payload).not.toContain("example.org");
    await screenshot(page, "dashboard-dead-letters");
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it("watches live messages of a chosen type, with sensitive fields redacted", async () => {
    const { page, elsewhere, problems } = await watchedPage(browser, new URL(url).origin);
    await openDashboard(page, `${url}/_flotilla#/flow`, token);
    const table = page.getByRole("table", { name: /^Event types by consumer group/ });
    await table.waitFor();
    // One row per consumer group of the type, each headed by the type.
    await expect
      .poll(() => table.getByRole("rowheader", { name: "identity.UserRegistered" }).count())
      .toBeGreaterThan(0);
    await page.getByLabel("Event type to watch").selectOption("identity.UserRegistered");
    expect(new URL(page.url()).hash).toBe("#/flow?watch=identity.UserRegistered");
    const messages = page.getByRole("list", { name: "Live messages" });
    let n = 0;
    await waitFor(
      async () => {
        await register(url, `browser-live-${n++}@example.org`);
        return (await messages.getByRole("listitem").count()) > 0;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: "a live message on the page" },
    );
    const payload = await messages.locator("pre").first().textContent();
    expect(payload).toContain('"email": "[redacted]"');
    expect(payload).toContain('"name": "Grace Hopper"');

    // The message leads to its path: the emit and the welcome's delivery, with their times.
    await messages
      .getByRole("button", { name: /^Show the path of / })
      .first()
      .click();
    const path = page.getByRole("table", { name: /^Path of event .* \(identity\.UserRegistered\)$/ });
    await waitFor(
      async () => {
        if ((await path.count()) > 0) return true;
        const again = page.getByRole("button", { name: "Look again" });
        if ((await again.count()) > 0) await again.click();
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: "the event's path" },
    );
    expect(await path.getByRole("rowheader").first().textContent()).toBe("Emit");
    await expect
      .poll(() => path.getByRole("rowheader", { name: "Handled by notifications.userRegistered (attempt 1)" }).count())
      .toBe(1);
    await screenshot(page, "dashboard-flow");
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it("passes axe-core's WCAG 2 A and AA checks on both views", async () => {
    // Only so axe's script can be added to the page: the page's own policy is checked by the tests above.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await openDashboard(page, `${url}/_flotilla#/flow?watch=*`, token);
    await page.getByRole("table", { name: /^Event types by consumer group/ }).waitFor();
    // With live messages on the page too.
    let n = 0;
    await waitFor(
      async () => {
        await register(url, `browser-axe-${n++}@example.org`);
        return (await page.getByRole("list", { name: "Live messages" }).getByRole("listitem").count()) > 0;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: "a live message on the page" },
    );
    expect(await accessibilityViolations(page)).toEqual([]);
    // With the list, a letter's details and the audit trail.
    const { body } = await api(url, admin, "dead-letters");
    await page.goto(`${url}/_flotilla#/dead-letters?letter=${body.letters[0].id}`);
    await page.getByRole("table", { name: "Actions taken through the dashboard, newest first" }).waitFor();
    await page.getByRole("region", { name: `Dead letter ${body.letters[0].id}` }).waitFor();
    expect(await accessibilityViolations(page)).toEqual([]);
    await context.close();
  }, 60_000);
});
