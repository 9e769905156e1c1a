/** End to end: starts the shop as `npm start` does (a real child process) and drives it over HTTP. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, waitFor } from "@flotilla/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { paid } from "./support/checkout.js";

const root = resolve(import.meta.dirname, "../../..");

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startNpm(env: Record<string, string>): Promise<Running> {
  // detached: the test signals the whole process group (npm → tsx → node), as a terminal's Ctrl-C would.
  const child = spawn("npm", ["start", "--silent"], { cwd: root, env: { ...process.env, ...env }, detached: true });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  // "close", not "exit": npm may die of the signal while the shop it started is still stopping and
  // holding the output pipe; "close" waits for every holder of the pipe.
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  await waitFor(() => /listening on (http:\/\/\S+?) /.test(out) || child.exitCode !== null, {
    timeoutMs: 30_000,
    what: "the shop to listen",
  });
  const match = /listening on (http:\/\/\S+?) /.exec(out);
  if (!match) throw new Error(`shop did not start:\n${out}`);
  return { child, url: match[1] as string, output: () => out, exited };
}

/** Sends SIGTERM to the process group; resolves with what the shop printed. */
async function stop(running: Running): Promise<string> {
  if (running.child.pid !== undefined && running.child.exitCode === null) process.kill(-running.child.pid, "SIGTERM");
  await running.exited;
  return running.output();
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

/** Signs in as SHOP-API.md's user and returns the Authorization header its requests carry. */
async function signIn(url: string, email: string, password: string): Promise<{ authorization: string }> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  expect(res.status).toBe(200);
  const { token } = (await res.json()) as { token: string };
  return { authorization: `Bearer ${token}` };
}

describe("the shop, started as npm start", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-shop-"));
  let shop: Running;
  let port: number;
  let demo: { authorization: string };

  beforeAll(async () => {
    port = await freePort();
    shop = await startNpm({ PORT: String(port), FLOTILLA_DATA_DIR: dataDir, FLOTILLA_LOG_LEVEL: "warn" });
    demo = await signIn(shop.url, "demo@flotilla.dev", "demo-password");
  }, 60_000);
  afterAll(async () => {
    if (shop) await stop(shop);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("prints where it listens, on the PORT it was given", () => {
    expect(shop.url).toBe(`http://localhost:${port}`);
  });

  it("answers health and readiness", async () => {
    expect((await fetch(`${shop.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${shop.url}/readyz`)).status).toBe(200);
  });

  it("serves the seeded catalog with cursor pagination and search", async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await fetch(`${shop.url}/api/v1/products?limit=8${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: Array<{ id: string; price: number }>; nextCursor: string | null };
      ids.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids.length).toBeGreaterThanOrEqual(20);
    const search = (await json(await fetch(`${shop.url}/api/v1/products?q=grinder`))) as { items: unknown[] };
    expect(search.items).toHaveLength(1);
    const one = await fetch(`${shop.url}/api/v1/products/${ids[0]}`);
    expect(await one.json()).toMatchObject({ id: ids[0], currency: "EUR" });
  });

  it("places an order (202 + Location) and reads it back", async () => {
    const res = await fetch(`${shop.url}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-correlation-id": "e2e-order-1", ...demo },
      body: JSON.stringify({ items: [{ productId: "prod-french-press", quantity: 2 }], ...paid }),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("x-correlation-id")).toBe("e2e-order-1");
    expect(res.headers.get("x-trace-id")).toMatch(/^[0-9a-f]{32}$/);
    const { orderId, status } = (await res.json()) as { orderId: string; status: string };
    expect(status).toBe("pending");
    expect(res.headers.get("location")).toBe(`/api/v1/orders/${orderId}`);
    const order = await json(await fetch(`${shop.url}${res.headers.get("location")}`, { headers: demo }));
    // The checkout saga runs on its own: the order may already have moved on by the time it is read.
    expect(order).toMatchObject({ id: orderId, total: 6800, currency: "EUR" });
    expect(["pending", "confirmed", "shipped"]).toContain(order.status);
    const mine = (await json(await fetch(`${shop.url}/api/v1/orders`, { headers: demo }))) as {
      items: { id: string }[];
    };
    expect(mine.items.map((o) => o.id)).toContain(orderId);
  });

  it("counts placed orders in the bestsellers read model (built from OrderPlaced events)", async () => {
    const bestsellers = async () =>
      (
        (await json(await fetch(`${shop.url}/api/v1/bestsellers?limit=100`))) as {
          items: { id: string; units: number }[];
        }
      ).items;
    const before = (await bestsellers()).find((i) => i.id === "prod-pour-over-kettle")?.units ?? 0;
    const res = await fetch(`${shop.url}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", ...demo },
      body: JSON.stringify({ items: [{ productId: "prod-pour-over-kettle", quantity: 3 }], ...paid }),
    });
    expect(res.status).toBe(202);
    await expect
      .poll(async () => (await bestsellers()).find((i) => i.id === "prod-pour-over-kettle"))
      .toMatchObject({ id: "prod-pour-over-kettle", name: expect.any(String), units: before + 3 });
  });

  it("gives the same order for the same Idempotency-Key, and 422 for the key with another order", async () => {
    const place = (quantity: number, key = "e2e-key") =>
      fetch(`${shop.url}/api/v1/orders`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": key, ...demo },
        body: JSON.stringify({ items: [{ productId: "prod-tamper", quantity }], ...paid }),
      });
    const [a, b] = await Promise.all([place(1), place(1)]);
    expect([a.status, b.status]).toEqual([202, 202]);
    const [first, second] = [await json(a), await json(b)];
    expect(second.orderId).toBe(first.orderId);
    expect(b.headers.get("location")).toBe(`/api/v1/orders/${first.orderId}`);
    const listed = (await fetch(`${shop.url}/api/v1/orders?limit=100`, { headers: demo }).then(json)) as {
      items: { id: string }[];
    };
    expect(listed.items.filter((o) => o.id === first.orderId)).toHaveLength(1);
    const reused = await place(2);
    expect(reused.status).toBe(422);
    expect(await json(reused)).toMatchObject({ error: { code: "FLOTILLA_IDEMPOTENCY_KEY_REUSED" } });
    const invalid = await place(1, "x".repeat(256));
    expect(invalid.status).toBe(400);
    expect(await json(invalid)).toMatchObject({ error: { code: "FLOTILLA_IDEMPOTENCY_KEY_INVALID" } });
  });

  it("answers bad input with stable codes and never crashes", async () => {
    const post = (body: string) =>
      fetch(`${shop.url}/api/v1/orders`, {
        method: "POST",
        headers: { "content-type": "application/json", ...demo },
        body,
      });
    const invalid = await post(JSON.stringify({ items: [{ productId: "prod-tamper", quantity: -1 }], ...paid }));
    expect(invalid.status).toBe(400);
    const body = (await invalid.json()) as { error: { code: string; details: { issues: Array<{ path: string }> } } };
    expect(body.error.code).toBe("INVALID_ARGUMENT");
    expect(body.error.details.issues.map((i) => i.path)).toContain("items.0.quantity");
    const malformed = await post("{not json");
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("FLOTILLA_MALFORMED_JSON");
    const unknown = await post(JSON.stringify({ items: [{ productId: "prod-nope", quantity: 1 }], ...paid }));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("PRODUCT_NOT_FOUND");
    const missing = await fetch(`${shop.url}/api/v1/products/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string; traceId: string } }).error).toMatchObject({
      code: "PRODUCT_NOT_FOUND",
      traceId: missing.headers.get("x-trace-id"),
    });
    expect((await fetch(`${shop.url}/api/v1/nowhere`)).status).toBe(404);
    expect((await fetch(`${shop.url}/healthz`)).status).toBe(200);
  });

  it("signs users up and in, and lets each reach only what SHOP-API.md says", async () => {
    const email = `e2e-${Date.now()}@example.com`;
    const registered = await fetch(`${shop.url}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "correct horse battery", name: "E2E" }),
    });
    expect(registered.status).toBe(201);
    const again = await fetch(`${shop.url}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "another password", name: "E2E" }),
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("EMAIL_TAKEN");
    const user = await signIn(shop.url, email, "correct horse battery");
    expect(await json(await fetch(`${shop.url}/api/v1/me`, { headers: user }))).toMatchObject({
      email,
      name: "E2E",
      roles: ["customer"],
      tier: "standard",
    });
    // Anonymous orders are gone; someone else's order is "not found"; admin routes are for admins.
    const anonymous = await fetch(`${shop.url}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: [{ productId: "prod-tamper", quantity: 1 }], ...paid }),
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const demosOrder = await fetch(`${shop.url}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", ...demo },
      body: JSON.stringify({ items: [{ productId: "prod-tamper", quantity: 1 }], ...paid }),
    }).then(json);
    expect((await fetch(`${shop.url}/api/v1/orders/${demosOrder.orderId}`, { headers: user })).status).toBe(404);
    const admin = await signIn(shop.url, "admin@flotilla.dev", "admin-password");
    expect((await fetch(`${shop.url}/api/v1/orders/${demosOrder.orderId}`, { headers: admin })).status).toBe(200);
    expect((await fetch(`${shop.url}/api/v1/admin/users-online`, { headers: user })).status).toBe(403);
    const online = await fetch(`${shop.url}/api/v1/admin/users-online`, { headers: admin });
    expect(online.status).toBe(200);
    const jwks = (await json(await fetch(`${shop.url}/.well-known/jwks.json`))) as { keys: { kid: string }[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect((await fetch(`${shop.url}/api/v1/auth/logout`, { method: "POST", headers: user })).status).toBe(204);
    const wrong = await fetch(`${shop.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "not the password" }),
    });
    expect(wrong.status).toBe(401);
  });

  it("stops gracefully on SIGTERM and keeps its data across a restart", async () => {
    const placed = await fetch(`${shop.url}/api/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", ...demo },
      body: JSON.stringify({ items: [{ productId: "prod-moka-pot", quantity: 1 }], ...paid }),
    }).then(json);
    expect(await stop(shop)).toContain("Flotilla shop stopped");
    shop = await startNpm({ PORT: String(port), FLOTILLA_DATA_DIR: dataDir, FLOTILLA_LOG_LEVEL: "warn" });
    // The token issued before the restart still works: the signing key and the edge keys are kept.
    // Kept across the restart, and its checkout finished (before the stop, or after it, from the saga's stored state).
    await waitFor(
      async () => {
        const order = await json(await fetch(`${shop.url}/api/v1/orders/${placed.orderId}`, { headers: demo }));
        return order.status === "confirmed" || order.status === "shipped";
      },
      { timeoutMs: 20_000, what: "the order placed before the restart to be confirmed" },
    );
    const page = (await json(await fetch(`${shop.url}/api/v1/products?limit=100`))) as { items: unknown[] };
    expect(page.items).toHaveLength(24);
  }, 60_000);
});
