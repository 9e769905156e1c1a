/** @module The shop as an app: its services and the gateway routes in front of them. */
import { fileURLToPath } from "node:url";
import { defineApp, type RunningApp, runApp } from "@flotilla/app";
import type { Logger } from "@flotilla/core";
import { upstreamEnvName, versionSplit } from "@flotilla/gateway";
import { bffRoutes } from "./bff.js";
import { shopPolicies } from "./edge.js";
import { embeddedLegacy, legacyProxies, legacyUpstream, reviewsReads } from "./legacy.js";
import { shopRoutes } from "./routes.js";
import { catalogService } from "./services/catalog/service.js";
import { identity } from "./services/identity/contract.js";
import { identityService } from "./services/identity/service.js";
import { inventoryService } from "./services/inventory/service.js";
import { notifications } from "./services/notifications/contract.js";
import { notificationsService } from "./services/notifications/service.js";
import { orders } from "./services/orders/contract.js";
import { ordersService } from "./services/orders/service.js";
import { paymentsService } from "./services/payments/service.js";
import { recommendationsService } from "./services/recommendations/service.js";
import { addReviewRoute, reviewsAdminRoutes } from "./services/reviews/routes.js";
import { createReviewsService, reviewsService } from "./services/reviews/service.js";
import { shippingService } from "./services/shipping/service.js";

export const shopApp = defineApp({
  name: "shop",
  version: "1.0.0",
  description: "The reference shop's public HTTP API (v1), as SHOP-API.md describes it.",
  services: [
    catalogService,
    ordersService,
    identityService,
    inventoryService,
    paymentsService,
    shippingService,
    notificationsService,
    recommendationsService,
    // Extracted from the legacy monolith: copies its reviews, serves the reads it is given (docs/strangler.md).
    reviewsService,
  ],
  gateway: {
    routes: [...shopRoutes, ...bffRoutes, addReviewRoute, ...reviewsAdminRoutes],
    policies: shopPolicies,
    // What the policies call (token keys, API keys): the gateway's NATS credentials allow these too.
    calls: [identity.jwks, identity.verifyApiKey],
    // GET /api/v1/live (SSE, and WebSocket on the same path): each buyer's orders and notifications as they change.
    live: {
      path: "/api/v1/live",
      events: [orders.OrderPlaced, orders.OrderStatusChanged, notifications.NotificationCreated],
    },
    // The same routes over gRPC when asked (FLOTILLA_GRPC_PORT); `npx flotilla proto` regenerates the file.
    grpc: { package: "flotilla.shop.v1", protoFile: fileURLToPath(new URL("../proto/shop.proto", import.meta.url)) },
    // The legacy monolith, strangled route by route: reviews move to their service by a split; store info stays.
    upstreams: { legacy: legacyUpstream },
    proxies: legacyProxies,
    // The catalog may run 1.x and 2.x instances at once: calls go to 1.x until the rules move them
    // (`flotilla traffic set catalog --weights v1=90,v2=10`); /api/v2 reaches only instances that serve it.
    // Reviews' reads: the legacy or the reviews service, as the strangler fig moves them (docs/strangler.md).
    splits: {
      catalog: versionSplit({ service: "catalog", variants: { v1: "1", v2: "2" }, default: "v1" }),
      reviews: reviewsReads,
    },
  },
  // How the shop runs split (`flotilla up`, `flotilla deploy k8s`): the edge with the keys it checks
  // tokens against, browsing reads together, the checkout saga alone, fulfilment together, and the
  // notifications, which only consume events (docs/deployment.md).
  units: {
    edge: { services: ["identity"], gateway: true, scaling: { min: 1, max: 3 } },
    browse: { services: ["catalog", "reviews", "recommendations"], scaling: { min: 1, max: 4 } },
    orders: { services: ["orders"], scaling: { min: 1, max: 3 } },
    fulfilment: { services: ["inventory", "payments", "shipping"], scaling: { min: 1, max: 3 } },
    notifications: { services: ["notifications"], scaling: { min: 1, max: 4, lagPerInstance: 50 } },
  },
});

export default shopApp;

export interface ShopOptions {
  port?: number;
  /** Also serve the routes over gRPC on this port (default FLOTILLA_GRPC_PORT; absent: none). */
  grpcPort?: number;
  /** Interface to listen on (default `localhost`). */
  listenHost?: string;
  /** Directory of the services' SQLite files (default FLOTILLA_DATA_DIR, else `.flotilla/data`). */
  dataDir?: string;
  /** Transport URL; embedded by default, serializing messages as the network would. */
  transport?: string;
  logger?: Logger;
  /** A legacy monolith running elsewhere (default FLOTILLA_UPSTREAM_LEGACY); absent both, one starts here. */
  legacyUrl?: string;
  /**
   * Serve the web dashboard at `/_flotilla` (`npm start` does): its API for the shop's admins, who sign in
   * with `POST /api/v1/auth/login` and give the page the token. See docs/dashboard.md.
   */
  dashboard?: boolean;
}

/**
 * The whole shop in this process, gateway included: what `npm start` runs. The legacy monolith runs
 * here too, unless `FLOTILLA_UPSTREAM_LEGACY` names where it runs.
 */
export async function startShop(options: ShopOptions = {}): Promise<RunningApp> {
  const legacy =
    options.legacyUrl === undefined
      ? await embeddedLegacy(options.dataDir ?? process.env.FLOTILLA_DATA_DIR ?? ".flotilla/data")
      : undefined;
  // The reviews service copies from (and forwards writes to) the monolith the gateway proxies to.
  const legacyUrl = options.legacyUrl ?? legacy?.url ?? process.env[upstreamEnvName("legacy")]?.split(",")[0]?.trim();
  const app =
    legacyUrl === undefined
      ? shopApp
      : {
          ...shopApp,
          services: shopApp.services.map((s) => (s === reviewsService ? createReviewsService({ legacyUrl }) : s)),
          gateway: { ...shopApp.gateway, upstreams: { legacy: { ...legacyUpstream, targets: [legacyUrl] } } },
        };
  try {
    const running = await runApp(app as typeof shopApp, {
      gatewayPort: options.port ?? 8080,
      listenHost: options.listenHost ?? "localhost",
      ...(options.grpcPort === undefined ? {} : { grpcPort: options.grpcPort }),
      ...(options.transport ? { transport: options.transport } : {}),
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.dashboard ? { dashboard: {} } : {}),
    });
    return {
      ...running,
      stop: async () => {
        await running.stop();
        await legacy?.close();
      },
    };
  } catch (err) {
    await legacy?.close();
    throw err;
  }
}
