/** @module The shop's public HTTP API (v1), as in SHOP-API.md: routes mapped to service actions, with who may call them. */
import type { InputOf } from "@flotilla/core";
import { authenticated, onEvent, type RequestView, requireRole, route } from "@flotilla/gateway";
import { catalog } from "./services/catalog/contract.js";
import { identity } from "./services/identity/contract.js";
import { inventory } from "./services/inventory/contract.js";
import { notifications } from "./services/notifications/contract.js";
import { orders } from "./services/orders/contract.js";
import { payments } from "./services/payments/contract.js";
import { recommendations } from "./services/recommendations/contract.js";

const signedIn = [authenticated()];
const admin = [authenticated(), requireRole("admin")];
/** Public keys change only on rotation, and a new one is fetched on an unknown kid: a minute of caching is safe. */
const cacheKeys = () => ({ "cache-control": "public, max-age=60" });

/** A product's tag in the gateway's cache: what a change of that product drops. */
const productTag = (id: string) => `product:${id}`;
/**
 * The catalog's answers are the same for everyone, so one cached answer serves all. A change drops them
 * at every gateway (its event), clients revalidate each time (max-age=0: a 304 while nothing changed).
 */
const catalogCache = { shared: true, clientMaxAgeSec: 0 } as const;

const catalogRoutes = [
  route({
    method: "GET",
    path: "/api/v1/products",
    action: catalog.listProducts,
    // Any change may move a product into or out of a search: every page goes.
    cache: {
      ...catalogCache,
      ttlSec: 30,
      invalidateOn: [onEvent(catalog.ProductUpdated), onEvent(catalog.ProductCreated)],
    },
  }),
  route({
    method: "GET",
    path: "/api/v1/products/:id",
    action: catalog.getProduct,
    input: (req) => ({ id: req.params.id }),
    cache: {
      ...catalogCache,
      ttlSec: 60,
      tags: (product) => [productTag(product.id)],
      invalidateOn: [onEvent(catalog.ProductUpdated, (product) => [productTag(product.id)])],
    },
    // Version 2 shows the price as money; v1 answers until its sunset (docs/traffic.md).
    deprecated: { since: "2026-12-01T00:00:00Z", sunset: "2027-06-30T00:00:00Z", link: "/openapi.json" },
  }),
  route({
    method: "GET",
    path: "/api/v2/products/:id",
    action: catalog.getProductV2,
    input: (req) => ({ id: req.params.id }),
  }),
  route({ method: "GET", path: "/api/v1/bestsellers", action: catalog.bestsellers }),
];

const identityRoutes = [
  route({ method: "POST", path: "/api/v1/auth/register", action: identity.register, status: 201 }),
  route({ method: "POST", path: "/api/v1/auth/login", action: identity.login }),
  route({ method: "POST", path: "/api/v1/auth/logout", action: identity.logout, status: 204, policies: signedIn }),
  route({ method: "GET", path: "/api/v1/me", action: identity.me, policies: signedIn }),
  route({ method: "PATCH", path: "/api/v1/me", action: identity.updateProfile, policies: signedIn }),
  route({ method: "GET", path: "/.well-known/jwks.json", action: identity.jwks, headers: cacheKeys }),
  route({
    method: "GET",
    path: "/.well-known/openid-configuration",
    action: identity.openidConfiguration,
    headers: cacheKeys,
  }),
];

const orderRoutes = [
  route({
    method: "POST",
    path: "/api/v1/orders",
    action: orders.createOrder,
    // 202 and where to follow the order; an Idempotency-Key header is kept by the runtime (the contract accepts one).
    accepted: { location: (out) => `/api/v1/orders/${out.orderId}` },
    policies: signedIn,
  }),
  route({ method: "GET", path: "/api/v1/orders", action: orders.listOrders, policies: signedIn }),
  route({
    method: "GET",
    path: "/api/v1/orders/:id",
    action: orders.getOrder,
    input: (req) => ({ id: req.params.id }),
    policies: signedIn,
  }),
];

const meRoutes = [
  route({
    method: "GET",
    path: "/api/v1/me/recommendations",
    action: recommendations.forMe,
    policies: signedIn,
  }),
  route({
    method: "GET",
    path: "/api/v1/me/notifications",
    action: notifications.listNotifications,
    policies: signedIn,
  }),
  route({
    method: "POST",
    path: "/api/v1/me/notifications/:id/read",
    action: notifications.markRead,
    input: (req) => ({ id: req.params.id }),
    policies: signedIn,
  }),
];

/** The request's JSON object with the path's id; a body that is not an object is left for validation to reject. */
function withId<T>(req: RequestView): T {
  const body = req.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body as T;
  return { ...(body as object), id: req.params.id } as T;
}

const adminRoutes = [
  route({ method: "GET", path: "/api/v1/admin/inventory", action: inventory.stockLevels, policies: admin }),
  route({ method: "GET", path: "/api/v1/admin/payments/summary", action: payments.summary, policies: admin }),
  route({ method: "GET", path: "/api/v1/admin/sagas", action: orders.listSagas, policies: admin }),
  route({
    method: "GET",
    path: "/api/v1/admin/sagas/:id",
    action: orders.getSaga,
    input: (req) => ({ id: req.params.id }),
    policies: admin,
  }),
  route({
    method: "PATCH",
    path: "/api/v1/admin/products/:id",
    action: catalog.updateProduct,
    input: (req) => withId<InputOf<typeof catalog.updateProduct>>(req),
    // Read-your-writes at the gateway that served the change; its event reaches the others.
    invalidates: (product) => [productTag(product.id), "/api/v1/products"],
    policies: admin,
  }),
  route({ method: "GET", path: "/api/v1/admin/users-online", action: identity.usersOnline, policies: admin }),
  route({ method: "POST", path: "/api/v1/admin/api-keys", action: identity.issueApiKey, status: 201, policies: admin }),
  route({
    method: "DELETE",
    path: "/api/v1/admin/api-keys/:id",
    action: identity.revokeApiKey,
    input: (req) => ({ id: req.params.id }),
    status: 204,
    policies: admin,
  }),
  route({
    method: "POST",
    path: "/api/v1/admin/signing-keys/rotate",
    action: identity.rotateSigningKey,
    policies: admin,
  }),
];

export const shopRoutes = [...catalogRoutes, ...identityRoutes, ...orderRoutes, ...meRoutes, ...adminRoutes];
