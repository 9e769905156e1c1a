/** The OpenAPI document of a test gateway: its shape from routes, schemas and policies; validated by swagger-parser. */
import SwaggerParser from "@apidevtools/swagger-parser";
import { action, defineContract } from "@flotilla/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { authenticated, type Policy, requireRole, route } from "../src/index.js";
import { documentPolicy, type OpenApiDocument, openApiDocument } from "../src/openapi/index.js";
import { startGateway, type TestGateway } from "./support/harness.js";
import { catalog, testRoutes } from "./support/services.js";

// biome-ignore lint/suspicious/noExplicitAny: reading a JSON document whose shape the assertions check
type Json = any;

interface Tree {
  name: string;
  children: Tree[];
}
const Tree: z.ZodType<Tree> = z.lazy(() => z.object({ name: z.string(), children: z.array(Tree) }));

const shapes = defineContract({
  service: "shapes",
  actions: {
    plant: action({ input: z.object({ tree: Tree }), output: z.object({ id: z.string() }) }),
    stamp: action({
      input: z.object({ id: z.string(), at: z.string().transform((s) => new Date(s)) }),
      output: z.object({ id: z.string(), at: z.date() }),
    }),
    forget: action({ input: z.object({ id: z.string() }), output: z.undefined() }),
    order: action({
      input: z.object({ tree: z.string() }),
      output: z.object({ orderId: z.string() }),
      idempotencyKey: true,
    }),
  },
  errors: { SHAPE_TAKEN: "ALREADY_EXISTS" },
});

const shapeRoutes = [
  route({ method: "POST", path: "/trees", action: shapes.plant, status: 201 }),
  route({
    method: "PATCH",
    path: "/stamps/:id",
    action: shapes.stamp,
    policies: [authenticated(), requireRole("admin")],
  }),
  route({ method: "DELETE", path: "/stamps/:id", action: shapes.forget, policies: [authenticated()] }),
  route({
    method: "POST",
    path: "/orders",
    action: shapes.order,
    accepted: { location: (o) => `/orders/${o.orderId}` },
  }),
];

/** A stand-in authentication policy that documents bearer and API-key credentials. */
const login: Policy = documentPolicy(
  { name: "login" },
  { credentials: ["bearer", "apiKey"], errors: [{ code: "FLOTILLA_TOKEN_INVALID", status: "UNAUTHENTICATED" }] },
);

const info = { title: "test", version: "2.0.0" };

async function validated(doc: OpenApiDocument): Promise<void> {
  // swagger-parser dereferences in place: it gets a copy.
  await SwaggerParser.validate(structuredClone(doc) as never);
}

describe("the OpenAPI document", () => {
  it("documents an accepted route's Location and an idempotent action's Idempotency-Key and its refusals", async () => {
    const doc: Json = openApiDocument(info, shapeRoutes, []);
    await validated(doc);
    const op = doc.paths["/orders"].post;
    expect(op.responses["202"].headers.location).toEqual({ $ref: "#/components/headers/Location" });
    expect(op.parameters).toContainEqual(
      expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false }),
    );
    expect(op.responses["422"].description).toContain("FLOTILLA_IDEMPOTENCY_KEY_REUSED");
    expect(op.responses["400"].description).toContain("FLOTILLA_IDEMPOTENCY_KEY_INVALID");
    const plain = doc.paths["/trees"].post;
    expect(plain.responses["201"].headers.location).toBeUndefined();
    expect(plain.parameters).toBeUndefined();
    expect(plain.responses["422"]).toBeUndefined();
  });

  it("is valid OpenAPI 3.1 for the test routes and for schemas zod cannot fully express", async () => {
    await validated(openApiDocument(info, [...testRoutes, ...shapeRoutes], [login]));
    await validated(openApiDocument(info, testRoutes, []));
  });

  it("is refused by the validator when broken, so the check above can fail", async () => {
    const doc: Json = openApiDocument(info, shapeRoutes, []);
    doc.paths["/trees"].post.responses = "none";
    await expect(validated(doc)).rejects.toThrow();
  });

  it("maps paths, parameters, bodies and success answers", () => {
    const doc: Json = openApiDocument(info, [...testRoutes, ...shapeRoutes], []);
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info).toEqual(info);
    const list = doc.paths["/api/v1/products"].get;
    expect(list.operationId).toBe("catalog.listProducts");
    expect(list.parameters).toEqual([
      { name: "q", in: "query", required: false, schema: { type: "string" } },
      // A default makes the parameter optional for the client (io "input").
      expect.objectContaining({ name: "limit", in: "query", required: false }),
    ]);
    expect(list.requestBody).toBeUndefined();
    const stamp = doc.paths["/stamps/{id}"].patch;
    expect(stamp.parameters).toEqual([{ name: "id", in: "path", required: true, schema: { type: "string" } }]);
    // The path's id is not asked for again in the body; the transform's input side is a string.
    const body = stamp.requestBody.content["application/json"].schema;
    expect(body.properties).toEqual({ at: { type: "string" } });
    expect(body.required).toEqual(["at"]);
    // A date has no JSON Schema: left open rather than promising a shape.
    expect(stamp.responses["200"].content["application/json"].schema.properties.at).toEqual({});
    expect(doc.paths["/trees"].post.responses["201"]).toBeDefined();
    const forget = doc.paths["/stamps/{id}"].delete;
    expect(forget.responses["204"].content).toBeUndefined();
    expect(forget.responses["200"]).toBeUndefined();
  });

  it("lifts recursive schemas into components and points at them", () => {
    const doc: Json = openApiDocument(info, shapeRoutes, []);
    const tree = doc.paths["/trees"].post.requestBody.content["application/json"].schema.properties.tree;
    const target = String(tree.$ref).replace("#/components/schemas/", "");
    expect(doc.components.schemas[target]).toBeDefined();
    expect(JSON.stringify(doc)).not.toContain("#/$defs/");
  });

  it("lists the errors a route can answer, not every status", () => {
    const doc: Json = openApiDocument(info, [...testRoutes, ...shapeRoutes], [login]);
    const codes = (op: Json) => Object.keys(op.responses).filter((s) => Number(s) >= 400);
    // Public, no body: validation, the credential check of the global policy, the contract's 404, faults.
    expect(codes(doc.paths["/api/v1/products/{id}"].get)).toEqual(["400", "401", "404", "500", "503", "504"]);
    // A body adds 413 and 415; a required role adds 403; the contract's ALREADY_EXISTS adds 409.
    expect(codes(doc.paths["/stamps/{id}"].patch)).toEqual([
      "400",
      "401",
      "403",
      "409",
      "413",
      "415",
      "500",
      "503",
      "504",
    ]);
    const notFound = doc.paths["/api/v1/products/{id}"].get.responses["404"];
    expect(notFound.description).toContain("PRODUCT_NOT_FOUND");
    expect(notFound.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
    // Without an authentication policy nothing says 401.
    const bare: Json = openApiDocument(info, testRoutes, []);
    expect(Object.keys(bare.paths["/api/v1/products/{id}"].get.responses)).not.toContain("401");
    expect(bare.components.securitySchemes).toBeUndefined();
  });

  it("marks security: required where a caller is, optional elsewhere", () => {
    const doc: Json = openApiDocument(info, [...testRoutes, ...shapeRoutes], [login]);
    expect(Object.keys(doc.components.securitySchemes)).toEqual(["bearer", "apiKey"]);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(doc.paths["/stamps/{id}"].delete.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
    expect(doc.paths["/api/v1/products/{id}"].get.security).toEqual([{}, { bearer: [] }, { apiKey: [] }]);
  });
});

describe("GET /openapi.json", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ openapi: { title: "catalog", version: "3.1.4" } });
  });
  afterAll(() => gw.stop());

  it("serves the document, cacheable, with an ETag that revalidates", async () => {
    const res = await fetch(`${gw.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const doc = (await res.json()) as Json;
    expect(doc.info).toEqual({ title: "catalog", version: "3.1.4" });
    expect(doc.paths["/api/v1/products/{id}"].get.operationId).toBe(catalog.getProduct.fqn);
    await validated(doc);
    const again = await fetch(`${gw.url}/openapi.json`, { headers: { "if-none-match": `W/${etag}` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const stale = await fetch(`${gw.url}/openapi.json`, { headers: { "if-none-match": '"other"' } });
    expect(stale.status).toBe(200);
    await stale.body?.cancel();
  });

  it("is absent unless asked for", async () => {
    const plain = await startGateway();
    try {
      expect((await fetch(`${plain.url}/openapi.json`)).status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});
