/** @module The legacy monolith behind the shop's gateway: the upstream, the routes it still serves, and its embedded start. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startLegacyMonolith } from "@flotilla/example-legacy-monolith";
import { proxy, splitRoute, type UpstreamOptions, upstreamEnvName } from "@flotilla/gateway";
import { listReviewsRoute } from "./services/reviews/routes.js";

/** Where `npm start -w @flotilla/example-legacy-monolith` listens; `FLOTILLA_UPSTREAM_LEGACY` points elsewhere. */
export const LEGACY_TARGET = "http://127.0.0.1:8081";

export const legacyUpstream: UpstreamOptions = {
  targets: [LEGACY_TARGET],
  healthCheck: { path: "/health", intervalMs: 5_000 },
  timeoutMs: 10_000,
};

const reviewsPath = (req: { params: { id: string } }) => `/products/${encodeURIComponent(req.params.id)}/reviews`;

/** What the monolith still serves alone: the store's facts (reviews moved to the reviews service, docs/strangler.md). */
export const legacyProxies = [
  proxy({ path: "/api/v1/store-info", methods: ["GET"], upstream: "legacy", rewrite: () => "/store-info" }),
];

/**
 * A product's reviews, served by the legacy or by the reviews service as the split's rules say (all to the
 * legacy until an admin changes them): the strangler fig's reads. Writes go through the service, which
 * forwards them to the legacy until they move (`PUT /api/v1/admin/reviews/writes`).
 */
export const reviewsReads = splitRoute({
  name: "reviews",
  method: "GET",
  path: "/api/v1/products/:id/reviews",
  variants: {
    legacy: proxy({ path: "/api/v1/products/:id/reviews", methods: ["GET"], upstream: "legacy", rewrite: reviewsPath }),
    service: listReviewsRoute,
  },
  default: "legacy",
});

/**
 * Starts the monolith in this process on a free port, with its SQLite file beside the services' — unless
 * the environment names where one runs already. Resolves with its URL (undefined when not started here).
 */
export async function embeddedLegacy(
  dataDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<{ url: string; close(): Promise<void> } | undefined> {
  if (env[upstreamEnvName("legacy")]) return undefined;
  mkdirSync(dataDir, { recursive: true });
  return startLegacyMonolith({ dbFile: join(dataDir, "legacy-reviews.db") });
}
