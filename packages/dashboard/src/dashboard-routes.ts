/** @module The dashboard's routes on a fastify server: the page and its files, each panel's JSON API, the event stream. */
import { FlotillaError } from "@flotilla/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { FeedHub } from "./feed-hub.js";
import { type DashboardCaller, PANEL_ID, type Panel, type PanelContext } from "./panel.js";
import { type Asset, CONTENT_SECURITY_POLICY, loadAssets } from "./static-assets.js";

export const DASHBOARD_PATH = "/_flotilla";
const API = `${DASHBOARD_PATH}/api`;

/** What the dashboard shows and who may see it. */
export interface DashboardOptions {
  /** The views, in the navigation's order (see panel.ts). */
  panels: readonly Panel[];
  /**
   * Runs the access check of an API request, throwing (a FlotillaError such as UNAUTHENTICATED or
   * PERMISSION_DENIED) to refuse it, and answers who the caller is. The page and its files are not
   * checked: they hold no data.
   */
  authorize(req: FastifyRequest, reply: FastifyReply): Promise<DashboardCaller | undefined>;
  /** Called once a request has become a long-lived event stream (the gateway takes it out of its request ceiling). */
  onStream?(req: FastifyRequest): void;
  /** Where a failed read of a topic is logged. */
  log?: { warn(obj: object, msg: string): void };
}

/**
 * Registers `GET /_flotilla` (the page), `GET /_flotilla/assets/:name`, `GET /_flotilla/api/panels`, each
 * panel's routes under `/_flotilla/api/<id>`, and `GET /_flotilla/api/events?topics=…` (Server-Sent
 * Events); ends the streams and closes the panels as the server closes.
 */
export function dashboardRoutes(app: FastifyInstance, options: DashboardOptions): void {
  const assets = loadAssets();
  const { panels, authorize } = options;
  const feed = new FeedHub((topic, err) => options.log?.warn({ err, topic }, "dashboard: a topic could not be read"));
  const ids = new Set<string>();
  for (const panel of panels) {
    if (!PANEL_ID.test(panel.id) || ids.has(panel.id))
      throw new Error(`dashboard panel id "${panel.id}" is invalid or taken`);
    ids.add(panel.id);
    for (const topic of panel.topics ?? []) feed.add(topic);
  }
  app.addHook("preClose", async () => {
    feed.close();
    await Promise.all(panels.map((p) => p.close?.()));
  });

  const page = assets.get("index.html") as Asset;
  app.get(DASHBOARD_PATH, async (req, reply) => sendAsset(req, reply, page));
  app.get(`${DASHBOARD_PATH}/`, async (req, reply) => sendAsset(req, reply, page));
  app.get(`${DASHBOARD_PATH}/assets/:name`, async (req, reply) => {
    const { name } = req.params as { name: string };
    const asset = name === "index.html" ? undefined : assets.get(name);
    if (asset === undefined) throw new FlotillaError("NOT_FOUND", `the dashboard has no file ${name}`);
    return sendAsset(req, reply, asset);
  });

  app.get(`${API}/panels`, async (req, reply) => {
    await authorize(req, reply);
    return sendJson(reply, { panels: panels.map((p) => ({ id: p.id, title: p.title })) });
  });
  for (const panel of panels) {
    const base = `${API}/${panel.id}`;
    for (const route of panel.routes ?? []) {
      app.route({
        method: route.method,
        url: `${base}${route.path}`,
        handler: async (req, reply) => {
          const caller = await authorize(req, reply);
          const url = req.url;
          const mark = url.indexOf("?");
          const answer = await route.handle({
            params: (req.params ?? {}) as Record<string, string>,
            query: new URLSearchParams(mark < 0 ? "" : url.slice(mark + 1)),
            body: req.body,
            caller,
          });
          return sendJson(reply, answer);
        },
      });
    }
    const ctx: PanelContext = { base, authorize };
    panel.install?.(app, ctx);
  }

  app.get(`${API}/events`, async (req, reply) => {
    await authorize(req, reply);
    const asked = (req.query as { topics?: string }).topics ?? "topology";
    const names = asked.split(",").filter((n) => n !== "");
    const unknown = names.filter((n) => !feed.has(n));
    if (names.length === 0 || unknown.length > 0) {
      throw new FlotillaError(
        "INVALID_ARGUMENT",
        `the event stream has no topic ${unknown.join(", ") || "(none asked)"}`,
      );
    }
    // From here the answer is ours to write, as a stream.
    reply.hijack();
    options.onStream?.(req);
    feed.open(reply.raw, reply.getHeaders() as Record<string, string | number | readonly string[]>, names);
  });
}

function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply
    .code(200)
    .header("content-type", "application/json; charset=utf-8")
    .header("cache-control", "no-store")
    .send(JSON.stringify(body ?? null));
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
