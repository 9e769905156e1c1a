/**
 * @module The reviews service's gateway routes: the public ones, with the legacy's paths and answers,
 * and the admin ones that watch and steer the copy from the legacy.
 */
import type { InputOf } from "@flotilla/core";
import { authenticated, type RequestView, requireRole, route } from "@flotilla/gateway";
import { reviews } from "./contract.js";

const admin = [authenticated(), requireRole("admin")];

/** The body's rating and text, whatever JSON came: the service says what is wrong with them, as the legacy did. */
function reviewOf(req: RequestView<{ id: string }>): InputOf<typeof reviews.addReview> {
  const body = (typeof req.body === "object" && req.body !== null ? req.body : {}) as Record<string, unknown>;
  return { productId: req.params.id, rating: body.rating, body: body.body };
}

/** `GET /api/v1/products/:id/reviews`, served by the service. */
export const listReviewsRoute = route({
  method: "GET",
  path: "/api/v1/products/:id/reviews",
  action: reviews.listReviews,
  input: (req) => ({ productId: req.params.id }),
});

/** `POST /api/v1/products/:id/reviews` (signed in), served by the service: 201 and where the review is, as the legacy answers. */
export const addReviewRoute = route({
  method: "POST",
  path: "/api/v1/products/:id/reviews",
  action: reviews.addReview,
  input: reviewOf,
  status: 201,
  headers: (review) => ({ location: `/reviews/${review.id}` }),
  policies: [authenticated()],
});

/** The sync's admin routes: its status, a pass now, turning it on or off, and moving the writes. */
export const reviewsAdminRoutes = [
  route({ method: "GET", path: "/api/v1/admin/reviews/sync", action: reviews.syncStatus, policies: admin }),
  route({ method: "POST", path: "/api/v1/admin/reviews/sync", action: reviews.syncNow, policies: admin }),
  route({ method: "PUT", path: "/api/v1/admin/reviews/sync", action: reviews.setSync, policies: admin }),
  route({ method: "PUT", path: "/api/v1/admin/reviews/writes", action: reviews.setWrites, policies: admin }),
];
