/** @module The dashboard's routes on a fastify server: the page and its files, the JSON API and its event stream. */
import { FlotillaError, type Host, type Registry } from "@flotilla/core";
import type { Tracer } from "@opentelemetry/api";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { EventFeed } from "./event-feed.js";
import { type Asset, CONTENT_SECURITY_POLICY, loadAssets } from "./static-assets.js";
import { readTopology, type TopologySource } from "./topology.js";

export const DASHBOARD_PATH = "/_flotilla";

/** What the dashboard reads and who may read it. */
export interface DashboardOptions {
  /** The host whose services are shown when there is no registry, and whose id names the serving process. */
  host: Host;
  /**
   * Runs the access check of an API request, throwing (a FlotillaError such as UNAUTHENTICATED or
   * PERMISSION_DENIED) to refuse it. The page and its files are not checked: they hold no data.
   */
  authorize(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Called once a request has become a long-lived event stream (the gateway takes it out of its request ceiling). */
  onStream?(req: FastifyRequest): void;
  /** The service registry; absent, the instances shown are the host's own services. */
  registry?: Registry;
  /** Services the gateway routes to, shown even when none of their instances runs in this process. */
  routed?: readonly string[];
  /** Opens a `dashboard.topology` span per topology read. */
  tracer?: Tracer;
  /** How often the event stream sends the topology (2,000 ms). */
  refreshMs?: number;
  /** Where a failed topology read of the event stream is logged. */
  log?: Pick<Host["log"], "warn">;
}

/**
 * Registers `GET /_flotilla` (the page), `GET /_flotilla/assets/:name`, `GET /_flotilla/api/topology` and
 * `GET /_flotilla/api/events` (Server-Sent Events), and ends the event streams as the server closes.
 */
export function dashboardRoutes(app: FastifyInstance, options: DashboardOptions): void {
  const assets = loadAssets();
  const source: TopologySource = {
    host: options.host,
    registry: options.registry,
    routed: options.routed,
    tracer: options.tracer,
  };
  const feed = new EventFeed(
    async () => ({ event: "topology", data: await readTopology(source) }),
    options.refreshMs ?? 2_000,
    (err) => options.log?.warn({ err }, "dashboard: the topology could not be read"),
  );
  app.addHook("preClose", async () => feed.close());

  const page = assets.get("index.html") as Asset;
  app.get(DASHBOARD_PATH, async (req, reply) => sendAsset(req, reply, page));
  app.get(`${DASHBOARD_PATH}/`, async (req, reply) => sendAsset(req, reply, page));
  app.get(`${DASHBOARD_PATH}/assets/:name`, async (req, reply) => {
    const { name } = req.params as { name: string };
    const asset = name === "index.html" ? undefined : assets.get(name);
    if (asset === undefined) throw new FlotillaError("NOT_FOUND", `the dashboard has no file ${name}`);
    return sendAsset(req, reply, asset);
  });

  app.get(`${DASHBOARD_PATH}/api/topology`, async (req, reply) => {
    await options.authorize(req, reply);
    const topology = await readTopology(source);
    return reply
      .code(200)
      .header("content-type", "application/json; charset=utf-8")
      .header("cache-control", "no-store")
      .send(JSON.stringify(topology));
  });
  app.get(`${DASHBOARD_PATH}/api/events`, async (req, reply) => {
    await options.authorize(req, reply);
    // From here the answer is ours to write, as a stream.
    reply.hijack();
    options.onStream?.(req);
    feed.open(reply.raw, reply.getHeaders() as Record<string, string | number | readonly string[]>);
  });
}

function sendAsset(req: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  reply
    .header("content-security-policy", CONTENT_SECURITY_POLICY)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("x-frame-options", "DENY")
    // Revalidated each time (the files are not fingerprinted), answered 304 while unchanged.
    .header("cache-control", "no-cache")
    .header("etag", asset.etag);
  if (req.headers["if-none-match"] === asset.etag) return reply.code(304).send();
  return reply.code(200).header("content-type", asset.contentType).send(asset.body);
}
