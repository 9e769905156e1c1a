/** @module The legacy monolith behind the shop's gateway: the upstream, the routes it still serves, and its embedded start. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startLegacyMonolith, USER_HEADER } from "@flotilla/example-legacy-monolith";
import { authenticated, proxy, type UpstreamOptions, upstreamEnvName } from "@flotilla/gateway";

/** Where `npm start -w @flotilla/example-legacy-monolith` listens; `FLOTILLA_UPSTREAM_LEGACY` points elsewhere. */
export const LEGACY_TARGET = "http://127.0.0.1:8081";

export const legacyUpstream: UpstreamOptions = {
  targets: [LEGACY_TARGET],
  healthCheck: { path: "/health", intervalMs: 5_000 },
  timeoutMs: 10_000,
};

const reviewsPath = (req: { params: { id: string } }) => `/products/${encodeURIComponent(req.params.id)}/reviews`;

/** Reviews stay in the monolith until a reviews service is extracted (docs/upstreams.md, the strangler fig). */
export const legacyProxies = [
  proxy({ path: "/api/v1/products/:id/reviews", methods: ["GET"], upstream: "legacy", rewrite: reviewsPath }),
  proxy({
    path: "/api/v1/products/:id/reviews",
    methods: ["POST"],
    upstream: "legacy",
    rewrite: reviewsPath,
    policies: [authenticated()],
    // The monolith trusts the proxy in front of it to say who is signed in.
    callerHeader: USER_HEADER,
  }),
  proxy({ path: "/api/v1/store-info", methods: ["GET"], upstream: "legacy", rewrite: () => "/store-info" }),
];

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
