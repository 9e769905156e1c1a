/**
 * @module The supervisor's control server, on 127.0.0.1: `GET /status`, `POST /units/:unit/scale
 * {instances}`, `POST /units/:unit/restart`, `GET /metrics`, `GET /events` (server-sent events). Every
 * request carries `authorization: Bearer <token>`; the address and token are in `<dataDir>/supervisor.json`
 * (mode 0600), which `flotilla ps/scale/restart` read.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { FlotillaError, toWire } from "@flotilla/core";
import { SupervisorCodes } from "./errors.js";
import type { EventHub } from "./events.js";

/** What `<dataDir>/supervisor.json` holds. */
export interface ControlFile {
  readonly url: string;
  readonly token: string;
  readonly pid: number;
}

/** The supervisor operations the control server exposes. */
export interface ControlTarget {
  status(): unknown;
  scale(unit: string, instances: number, reason?: string): Promise<unknown>;
  restart(unit: string): Promise<void>;
  metrics(): Promise<{ contentType: string; text: string }>;
}

/** The file name of the control file in the data dir. */
export const CONTROL_FILE = "supervisor.json";

const HTTP_STATUS: Record<string, number> = {
  NOT_FOUND: 404,
  OUT_OF_RANGE: 400,
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  UNAVAILABLE: 503,
};

/** The running control server: its URL, and close() (which also removes the control file). */
export interface ControlServer {
  readonly url: string;
  /** The bearer token its requests need (the dashboard's link to the supervisor uses it). */
  readonly token: string;
  close(): Promise<void>;
}

/** Serves the control API on a free loopback port and writes the control file. */
export async function startControlServer(
  target: ControlTarget,
  hub: EventHub,
  dataDir: string,
): Promise<ControlServer> {
  const token = randomBytes(24).toString("base64url");
  const streams = new Set<ServerResponse>();
  const unsubscribe = hub.onAny((type, event) => {
    for (const res of streams) res.write(`event: ${type}\ndata: ${JSON.stringify(event)}\n\n`);
  });
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => answerError(res, err));
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!authorized(req.headers.authorization, token)) {
      throw FlotillaError.of(SupervisorCodes.UNAUTHORIZED, "missing or wrong bearer token (see supervisor.json)");
    }
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const unitAction = /^\/units\/([^/]+)\/(scale|restart)$/.exec(path);
    if (req.method === "GET" && path === "/status") return json(res, 200, target.status());
    if (req.method === "GET" && path === "/metrics") {
      const { contentType, text } = await target.metrics();
      res.writeHead(200, { "content-type": contentType }).end(text);
      return;
    }
    if (req.method === "GET" && path === "/events") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      res.write(": flotilla supervisor events\n\n");
      streams.add(res);
      res.once("close", () => streams.delete(res));
      return;
    }
    if (req.method === "POST" && unitAction?.[2] === "scale") {
      const body = (await readJson(req)) as { instances?: unknown; reason?: unknown };
      if (typeof body?.instances !== "number") {
        throw new FlotillaError("INVALID_ARGUMENT", 'the body must be {"instances": N}');
      }
      const reason = typeof body.reason === "string" ? body.reason : "flotilla scale";
      return json(res, 200, await target.scale(decodeURIComponent(unitAction[1] ?? ""), body.instances, reason));
    }
    if (req.method === "POST" && unitAction?.[2] === "restart") {
      await target.restart(decodeURIComponent(unitAction[1] ?? ""));
      return json(res, 200, target.status());
    }
    throw new FlotillaError("NOT_FOUND", `no ${req.method} ${path} here`);
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const file = join(dataDir, CONTROL_FILE);
  const content: ControlFile = { url, token, pid: process.pid };
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  return {
    url,
    token,
    async close() {
      unsubscribe();
      rmSync(file, { force: true });
      for (const res of streams) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function authorized(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.replace(/^Bearer /, "") ?? "");
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 65_536) throw new FlotillaError("INVALID_ARGUMENT", "the body is over 64 KiB");
  }
  try {
    return JSON.parse(text || "{}");
  } catch {
    throw new FlotillaError("INVALID_ARGUMENT", "the body is not JSON");
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function answerError(res: ServerResponse, err: unknown): void {
  const fe = FlotillaError.from(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  json(res, HTTP_STATUS[fe.status] ?? 500, { error: toWire(fe) });
}
