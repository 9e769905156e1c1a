/** @module The shop's public HTTP API (v1), as in SHOP-API.md: routes mapped to service actions. */
import type { InputOf } from "@flotilla/core";
import { type RequestView, route } from "@flotilla/gateway";
import { catalog } from "./services/catalog/contract.js";
import { orders } from "./services/orders/contract.js";

type CreateOrder = InputOf<typeof orders.createOrder>;

/** The JSON body plus the `Idempotency-Key` header; a body that is not an object is left for validation to reject. */
function createOrderInput(req: RequestView): CreateOrder {
  const key = req.headers["idempotency-key"];
  const body = req.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body as CreateOrder;
  return { ...(body as CreateOrder), ...(typeof key === "string" && key !== "" ? { idempotencyKey: key } : {}) };
}

export const shopRoutes = [
  route({ method: "GET", path: "/api/v1/products", action: catalog.listProducts }),
  route({
    method: "GET",
    path: "/api/v1/products/:id",
    action: catalog.getProduct,
    input: (req) => ({ id: req.params.id }),
  }),
  route({ method: "GET", path: "/api/v1/bestsellers", action: catalog.bestsellers }),
  route({
    method: "POST",
    path: "/api/v1/orders",
    action: orders.createOrder,
    status: 202,
    input: createOrderInput,
    headers: (out) => ({ location: `/api/v1/orders/${out.orderId}` }),
  }),
  route({
    method: "GET",
    path: "/api/v1/orders/:id",
    action: orders.getOrder,
    input: (req) => ({ id: req.params.id }),
  }),
];
