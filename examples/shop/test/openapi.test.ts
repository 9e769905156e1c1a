/**
 * The shop's OpenAPI document: served at /openapi.json, valid OpenAPI 3.1 by swagger-parser, and true: real
 * answers of the running shop carry documented statuses and bodies that validate (ajv, draft 2020-12)
 * against the schemas documented for them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { type RunningApp, runApp } from "@flotilla/app";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shopApp } from "../src/app.js";
import { shopRoutes } from "../src/routes.js";

// biome-ignore lint/suspicious/noExplicitAny: reading a JSON document whose shape the assertions check
type Json = any;

const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });

describe("the shop's OpenAPI document", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-openapi-"));
  let shop: RunningApp;
  let url: string;
  let doc: Json;
  let admin: Record<string, string>;
  let demo: Record<string, string>;

  const signIn = async (email: string, password: string) => {
    const res = await fetch(`${url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    await expectDocumented("POST", "/api/v1/auth/login", res.clone());
    return { authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
  };

  /** Asserts the answer's status is documented for the operation and its body validates against its schema. */
  async function expectDocumented(method: string, template: string, res: Response): Promise<Json> {
    const op = doc.paths[template.replace(/:([A-Za-z0-9_]+)/g, "{$1}")]?.[method.toLowerCase()];
    expect(op, `${method} ${template} is documented`).toBeDefined();
    const documented = op.responses[String(res.status)];
    const text = await res.text();
    expect(documented, `${method} ${template} documents ${res.status} (${text.slice(0, 200)})`).toBeDefined();
    const schema = documented.content?.["application/json"]?.schema;
    if (schema === undefined) {
      expect(text).toBe("");
      return undefined;
    }
    const body = JSON.parse(text);
    const validate = ajv.compile({ ...schema, components: { schemas: doc.components.schemas } });
    expect(validate(body), `${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    return body;
  }

  beforeAll(async () => {
    shop = await runApp(shopApp, { dataDir, gatewayPort: 0, listenHost: "127.0.0.1", tracing: false });
    url = shop.url ?? "";
    const res = await fetch(`${url}/openapi.json`);
    expect(res.status).toBe(200);
    doc = await res.json();
    admin = await signIn("admin@flotilla.dev", "admin-password");
    demo = await signIn("demo@flotilla.dev", "demo-password");
  }, 60_000);
  afterAll(async () => {
    await shop?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("validates as OpenAPI 3.1 (swagger-parser) and names the app", async () => {
    await SwaggerParser.validate(structuredClone(doc));
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info).toMatchObject({ title: "shop", version: "1.0.0" });
  });

  it("documents every route, with the shop's credentials: bearer tokens and API keys", () => {
    for (const r of shopRoutes) {
      const op = doc.paths[r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")]?.[r.method.toLowerCase()];
      expect(op?.operationId, `${r.method} ${r.path}`).toBe(r.action.fqn);
    }
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["apiKey", "bearer"]);
    expect(doc.paths["/api/v1/orders"].post.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
    expect(doc.paths["/api/v1/admin/inventory"].get.responses["403"]).toBeDefined();
    expect(doc.paths["/api/v1/products"].get.responses["429"].headers["retry-after"]).toBeDefined();
    // Public: a credential is optional (but one that does not verify is refused).
    expect(doc.paths["/api/v1/products"].get.security).toEqual([{}, { bearer: [] }, { apiKey: [] }]);
  });

  it("answers every documented GET without path parameters as documented, signed in or not", async () => {
    const gets = shopRoutes.filter((r) => r.method === "GET" && !r.path.includes(":"));
    expect(gets.length).toBeGreaterThan(5);
    for (const r of gets) {
      await expectDocumented("GET", r.path, await fetch(`${url}${r.path}`, { headers: admin }));
      await expectDocumented("GET", r.path, await fetch(`${url}${r.path}`));
    }
  });

  it("answers orders, products and refusals as documented", async () => {
    const products = await expectDocumented("GET", "/api/v1/products", await fetch(`${url}/api/v1/products?limit=2`));
    const id = products.items[0].id as string;
    await expectDocumented("GET", "/api/v1/products/:id", await fetch(`${url}/api/v1/products/${id}`));
    await expectDocumented("GET", "/api/v1/products/:id", await fetch(`${url}/api/v1/products/no-such-product`));
    const order = {
      items: [{ productId: id, quantity: 1 }],
      payment: { card: "4242424242424242" },
      shipping: { name: "Ada", street: "1 Main St", city: "Springfield", country: "US" },
    };
    const post = (body: unknown, headers: Record<string, string>) =>
      fetch(`${url}/api/v1/orders`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const created = await post(order, demo);
    expect(created.status).toBe(202);
    const { orderId } = await expectDocumented("POST", "/api/v1/orders", created);
    await expectDocumented(
      "GET",
      "/api/v1/orders/:id",
      await fetch(`${url}/api/v1/orders/${orderId}`, { headers: demo }),
    );
    const invalid = await post({ items: [] }, demo);
    expect(invalid.status).toBe(400);
    await expectDocumented("POST", "/api/v1/orders", invalid);
    const anonymous = await post(order, {});
    expect(anonymous.status).toBe(401);
    await expectDocumented("POST", "/api/v1/orders", anonymous);
    const forbidden = await fetch(`${url}/api/v1/admin/inventory`, { headers: demo });
    expect(forbidden.status).toBe(403);
    await expectDocumented("GET", "/api/v1/admin/inventory", forbidden);
    const out = await fetch(`${url}/api/v1/auth/logout`, { method: "POST", headers: demo });
    expect(out.status).toBe(204);
    await expectDocumented("POST", "/api/v1/auth/logout", out);
  });
});
