/** @module `GET /openapi.json`: the gateway's OpenAPI document, built once on first request, with an ETag. */
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Policy } from "../policy.js";
import type { Route } from "../route.js";
import { type OpenApiInfo, openApiDocument } from "./document.js";

export const OPENAPI_PATH = "/openapi.json";

/** The document changes only with the deployment, so caches may keep it a while and revalidate by ETag. */
const CACHE_CONTROL = "public, max-age=300";

export function registerOpenApiRoute(
  app: FastifyInstance,
  info: OpenApiInfo,
  routes: readonly Route[],
  policies: readonly Policy[],
): void {
  let served: { body: string; etag: string } | undefined;
  const document = () => {
    if (served === undefined) {
      const body = JSON.stringify(openApiDocument(info, routes, policies));
      served = { body, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"` };
    }
    return served;
  };
  app.get(OPENAPI_PATH, (req, reply) => {
    const { body, etag } = document();
    reply.header("etag", etag).header("cache-control", CACHE_CONTROL);
    if (matches(req.headers["if-none-match"], etag)) return reply.code(304).send();
    return reply.header("content-type", "application/json; charset=utf-8").send(body);
  });
}

/** RFC 9110 §13.1.2: a list of tags, or `*`; weak comparison, so `W/"x"` matches `"x"`. */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === "*" || t === etag);
}
