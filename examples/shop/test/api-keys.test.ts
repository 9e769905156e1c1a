/** Machine clients: an admin issues an API key over HTTP, and the key is a credential at the gateway. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionCounter, type CountedShop, startCountedShop } from "./support/attack.js";

describe("API keys through the shop's gateway", () => {
  let shop: CountedShop;
  beforeAll(async () => {
    shop = await startCountedShop(actionCounter());
  });
  afterAll(() => shop?.stop());

  async function adminToken(): Promise<string> {
    const res = await fetch(`${shop.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "admin@flotilla.dev", password: "admin-password" }),
    });
    return ((await res.json()) as { token: string }).token;
  }

  it("are issued by admins only, shown once, and authenticate a machine client", async () => {
    const auth = { authorization: `Bearer ${await adminToken()}` };
    const admin = { ...auth, "content-type": "application/json" };
    const issued = await fetch(`${shop.url}/api/v1/admin/api-keys`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "warehouse sync" }),
    });
    expect(issued.status).toBe(201);
    const { id, key } = (await issued.json()) as { id: string; key: string };
    expect(key).toMatch(/^flk_/);

    // The key's client is signed in as itself (its own orders: none yet), but is no admin.
    const orders = await fetch(`${shop.url}/api/v1/orders`, { headers: { "x-api-key": key } });
    expect(orders.status).toBe(200);
    expect(await orders.json()).toEqual({ items: [], nextCursor: null });
    const adminRoute = await fetch(`${shop.url}/api/v1/admin/users-online`, { headers: { "x-api-key": key } });
    expect(adminRoute.status).toBe(403);
    const asKey = await fetch(`${shop.url}/api/v1/admin/api-keys`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ name: "escalation" }),
    });
    expect(asKey.status).toBe(403);

    const wrong = await fetch(`${shop.url}/api/v1/orders`, { headers: { "x-api-key": `${key.slice(0, -2)}xx` } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe("FLOTILLA_API_KEY_INVALID");

    const revoked = await fetch(`${shop.url}/api/v1/admin/api-keys/${id}`, { method: "DELETE", headers: auth });
    expect(revoked.status).toBe(204);
  });
});
