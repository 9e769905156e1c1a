/**
 * A company's single sign-on signs users in to the shop: an OpenID issuer of the test's own on loopback
 * (discovery document and keys), configured through FLOTILLA_OIDC_ISSUERS.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionCounter, type CountedShop, startCountedShop } from "./support/attack.js";
import { paid } from "./support/checkout.js";

const AUDIENCE = "shop";

describe("sign-in through an external OpenID issuer", () => {
  let issuer: string;
  let server: Server;
  let sign: (claims: Record<string, unknown>, exp?: string) => Promise<string>;
  let shop: CountedShop;
  const fetched: string[] = [];

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "sso-1", alg: "ES256", use: "sig" };
    server = createServer((req, res) => {
      fetched.push(req.url ?? "");
      const body =
        req.url === "/.well-known/openid-configuration"
          ? { issuer, jwks_uri: `${issuer}/keys`, id_token_signing_alg_values_supported: ["ES256"] }
          : req.url === "/keys"
            ? { keys: [jwk] }
            : undefined;
      res.writeHead(body ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(body ?? {}));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sign = (claims, exp = "5m") =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid: "sso-1" })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(exp)
        .sign(privateKey);
    shop = await startCountedShop(actionCounter(), {
      env: { FLOTILLA_OIDC_ISSUERS: JSON.stringify([{ issuer, audience: AUDIENCE }]) },
    });
  });
  afterAll(async () => {
    await shop?.stop();
    await new Promise((r) => server?.close(r));
  });

  const me = (token: string) => fetch(`${shop.url}/api/v1/orders`, { headers: { authorization: `Bearer ${token}` } });

  it("accepts the issuer's tokens, found through its discovery document", async () => {
    const res = await me(await sign({ sub: "alice" }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [], nextCursor: null });
    expect(fetched).toEqual(["/.well-known/openid-configuration", "/keys"]);
  });

  it("namespaces the issuer's subjects and grants no role the shop did not give", async () => {
    // A token naming the shop's own admin, with an admin role claim: still an external customer.
    const token = await sign({ sub: "user-admin", roles: ["admin"] });
    const placed = await fetch(`${shop.url}/api/v1/orders`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ items: [{ productId: "prod-tamper", quantity: 1 }], ...paid }),
    });
    expect(placed.status).toBe(202);
    const admin = await fetch(`${shop.url}/api/v1/admin/users-online`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(admin.status).toBe(403);
    const login = await fetch(`${shop.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "admin@flotilla.dev", password: "admin-password" }),
    });
    const { token: shopAdmin } = (await login.json()) as { token: string };
    const adminsOrders = (await (await me(shopAdmin)).json()) as { items: unknown[] };
    expect(adminsOrders.items).toEqual([]);
  });

  it("refuses the issuer's expired tokens and tokens for another audience", async () => {
    expect((await me(await sign({ sub: "alice" }, "-5m"))).status).toBe(401);
    const other = await new SignJWT({ sub: "alice" })
      .setProtectedHeader({ alg: "ES256", kid: "sso-1" })
      .setIssuer("https://elsewhere.example")
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .sign((await generateKeyPair("ES256")).privateKey);
    expect((await me(other)).status).toBe(401);
  });
});
