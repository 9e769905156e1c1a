/**
 * The dashboard's browser tests' common ground: Debian's Chromium launched by playwright-core with the
 * flags a closed network needs, a page that refuses (and remembers) every request to another origin and
 * every script error, sign-in with an admin token, axe-core's WCAG checks and the screenshots' folder.
 */
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
/** Browser tests run where Chromium is, and always in CI (where its absence is a failure). */
export const BROWSER_RUNS = existsSync(CHROMIUM) || process.env.CI === "true";
/** A describe title that says why the tests were skipped. */
export function browserSuite(title: string): string {
  return BROWSER_RUNS ? title : `${title}: skipped, no ${CHROMIUM} here (CI installs it)`;
}

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

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

/** Where the views' screenshots are kept (FLOTILLA_SCREENSHOTS, else a folder in the temporary directory). */
export const SCREENSHOTS = process.env.FLOTILLA_SCREENSHOTS ?? join(tmpdir(), "flotilla-screenshots");

/** Saves a full-page screenshot as `<SCREENSHOTS>/<name>.png` and answers its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** A page of the dashboard that keeps what went wrong: requests to another origin, script errors, CSP violations. */
export interface WatchedPage {
  readonly page: Page;
  /** URLs the page asked of another origin (refused). */
  readonly elsewhere: string[];
  /** Script errors and console errors (a CSP violation is one), except the API's expected 401 before sign-in. */
  readonly problems: string[];
}

export async function watchedPage(target: Browser | BrowserContext, origin: string): Promise<WatchedPage> {
  const page = await target.newPage();
  const elsewhere: string[] = [];
  const problems: string[] = [];
  // Offline: anything not asked of the dashboard's own server is refused and remembered.
  await page.route("**/*", (route) => {
    if (route.request().url().startsWith(origin)) return route.continue();
    elsewhere.push(route.request().url());
    return route.abort();
  });
  page.on("pageerror", (err) => problems.push(err.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().includes("401")) problems.push(message.text());
  });
  return { page, elsewhere, problems };
}

/**
 * Opens the dashboard at `dashboardUrl` (e.g. `http://127.0.0.1:8080/_flotilla#/traces`) and, when it
 * asks for one, gives the admin `token` (without "Bearer ").
 */
export async function openDashboard(page: Page, dashboardUrl: string, token: string | undefined): Promise<void> {
  await page.goto(dashboardUrl);
  if (token === undefined) return;
  const tokenInput = page.getByLabel("Admin bearer token");
  await tokenInput.waitFor();
  await tokenInput.fill(token);
  await tokenInput.press("Enter");
}

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/**
 * axe-core's WCAG 2 A and AA rules on the page as it is: each violation as `rule: how many elements`.
 * The page must come from a context made with `{ bypassCSP: true }`, so axe's script may be added.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(
    "axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } })" +
      ".then((r) => r.violations.map((v) => v.id + ': ' + v.nodes.length))",
  );
}
