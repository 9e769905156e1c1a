/** The dashboard on the embedded shop's gateway: its files, its topology API and event stream, and who may use them. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningApp, runApp } from "@flotilla/app";
import { MemoryRegistry } from "@flotilla/core";
import type { Topology } from "@flotilla/dashboard";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import shopApp from "../src/app.js";
import { type Headers, ShopClient } from "./support/shop-client.js";

describe("the dashboard at /_flotilla on the shop's gateway", () => {
  let shop: RunningApp;
  let dataDir: string;
  let url: string;
  let admin: Headers;
  let customer: Headers;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-dashboard-"));
    shop = await runApp(shopApp, {
      dataDir,
      gatewayPort: 0,
      listenHost: "127.0.0.1",
      registry: new MemoryRegistry(),
      dashboard: { refreshMs: 200 },
    });
    url = shop.url ?? "";
    const client = new ShopClient(url);
    admin = await client.signIn("admin@flotilla.dev", "admin-password");
    customer = await client.signIn("demo@flotilla.dev", "demo-password");
  });
  afterAll(async () => {
    await shop?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves the page and its files to anyone, each with its type and a strict Content-Security-Policy", async () => {
    const page = await fetch(`${url}/_flotilla`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await page.text();
    // Nothing from another origin, nothing inline: every script and style is a file of the dashboard.
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toContain("<style");
    for (const src of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      const res = await fetch(`${url}${src[1]}`);
      expect(res.status, src[1]).toBe(200);
      expect(res.headers.get("content-security-policy")).toBe(csp);
    }

    const script = await fetch(`${url}/_flotilla/assets/app.js`);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const source = await script.text();
    // The modules import one another by relative path only: no CDN, no bare name needing an import map.
    for (const spec of source.matchAll(/from "([^"]+)"/g)) expect(spec[1]).toMatch(/^\.\/[\w-]+\.js$/);
    const preact = await fetch(`${url}/_flotilla/assets/preact-htm.js`);
    expect(preact.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await preact.text()).toContain("export{");

    const css = await fetch(`${url}/_flotilla/assets/style.css`);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const etag = css.headers.get("etag") ?? "";
    const again = await fetch(`${url}/_flotilla/assets/style.css`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
  });

  it("answers 404 NOT_FOUND for a file it does not have", async () => {
    const res = await fetch(`${url}/_flotilla/assets/secrets.env`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });

  it("refuses its API to the anonymous (401) and to customers (403)", async () => {
    for (const path of [
      "/_flotilla/api/topology",
      "/_flotilla/api/topology/edges",
      "/_flotilla/api/fitness",
      "/_flotilla/api/events",
    ]) {
      const anonymous = await fetch(`${url}${path}`);
      expect(anonymous.status, path).toBe(401);
      expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe("UNAUTHENTICATED");
      const asCustomer = await fetch(`${url}${path}`, { headers: customer });
      expect(asCustomer.status, path).toBe(403);
      expect(((await asCustomer.json()) as { error: { code: string } }).error.code).toBe("PERMISSION_DENIED");
    }
  });

  it("shows an admin every service of the shop with its instances, read from the registry", async () => {
    const res = await fetch(`${url}/_flotilla/api/topology`, { headers: admin });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const topology = (await res.json()) as Topology;
    expect(topology.source).toBe("registry");
    expect(topology.host).toBe(shop.host.id);
    expect(topology.services.map((s) => s.name)).toEqual([...shop.host.services].sort());
    for (const service of topology.services) {
      expect(service.health, service.name).toBe("up");
      expect(service.instances).toHaveLength(1);
      const [instance] = service.instances;
      expect(instance?.ready).toBe(true);
      expect(instance?.pid).toBe(process.pid);
      expect(instance?.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(instance?.inFlight).toBeGreaterThanOrEqual(0);
    }
    // Routed: the services a route of the gateway calls (whatever else calls or feeds them).
    const routed = new Set(shopApp.gateway?.routes.flatMap((r) => ("action" in r ? [r.action.service] : [])));
    expect(routed.has("catalog")).toBe(true);
    for (const service of topology.services) expect(service.routed, service.name).toBe(routed.has(service.name));
  });

  it("pushes the topology to an admin over Server-Sent Events, again on each tick", async () => {
    const stop = new AbortController();
    const res = await fetch(`${url}/_flotilla/api/events`, { headers: admin, signal: stop.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    const updates: Topology[] = [];
    let buffer = "";
    while (updates.length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^event: topology\ndata: (.*)$/m.exec(frame);
        if (data?.[1] !== undefined) updates.push(JSON.parse(data[1]) as Topology);
      }
    }
    stop.abort();
    expect(updates).toHaveLength(2);
    expect(updates[0]?.services.map((s) => s.name)).toContain("orders");
    expect(Date.parse(updates[1]?.generatedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(updates[0]?.generatedAt ?? ""));
  });
});
