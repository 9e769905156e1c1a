/** A signing-key rotation, seen from outside: the gateway takes the new key's tokens and keeps taking the old ones. */
import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionCounter, type CountedShop, startCountedShop } from "./support/attack.js";

describe("rotating the identity service's signing key", () => {
  let shop: CountedShop;
  beforeAll(async () => {
    shop = await startCountedShop(actionCounter());
  });
  afterAll(() => shop?.stop());

  const login = async (email: string, password: string): Promise<string> => {
    const res = await fetch(`${shop.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };
  const me = (token: string) => fetch(`${shop.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });

  it("is picked up by the gateway at the first token that names the new key; old tokens keep working", async () => {
    const before = await login("demo@flotilla.dev", "demo-password");
    expect((await me(before)).status).toBe(200); // the gateway has fetched the keys once
    const admin = await login("admin@flotilla.dev", "admin-password");
    const rotated = await fetch(`${shop.url}/api/v1/admin/signing-keys/rotate`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(rotated.status).toBe(200);
    const { kid, retired } = (await rotated.json()) as { kid: string; retired: string };
    expect(retired).toBe(decodeProtectedHeader(before).kid);
    // The gateway refetches an issuer's keys at most once a second (its floor for the shop's own issuer).
    await new Promise((r) => setTimeout(r, 1_100));
    const after = await login("demo@flotilla.dev", "demo-password");
    expect(decodeProtectedHeader(after).kid).toBe(kid);
    expect((await me(after)).status).toBe(200);
    expect((await me(before)).status).toBe(200);
    const jwks = (await (await fetch(`${shop.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual([kid, retired]);
  });
});
