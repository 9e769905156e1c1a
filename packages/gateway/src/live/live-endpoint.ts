/**
 * @module `GET <path>`: live push as Server-Sent Events, and a WebSocket upgrade on the same path, both
 * behind the gateway's policies (a Bearer header, or `?access_token=` which EventSource and browsers'
 * WebSocket need).
 */
import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { action, defineContract, FlotillaError, type Identity } from "@flotilla/core";
import { SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { WebSocketServer } from "ws";
import { z } from "zod";
import { allowQueryToken, authenticated } from "../auth/route-policies.js";
import { type EdgeIds, edgeIds, responseHeaders } from "../edge-ids.js";
import { errorBody, httpStatusOf } from "../http-errors.js";
import { composePolicies, type Exchange } from "../policy.js";
import { stripInternalHeaders } from "../request-guard.js";
import type { RequestState } from "../request-state.js";
import { type RequestView, type Route, route } from "../route.js";
import { type HandlerDeps, HttpExchange, requestView } from "../route-handler.js";
import { type Cursor, parseCursor } from "./live-cursor.js";
import { LiveHub } from "./live-hub.js";
import { type LiveOptions, resolveLiveOptions } from "./live-options.js";
import { SseSink } from "./sse-sink.js";
import { WebSocketSink } from "./websocket-sink.js";

/** The endpoint as policies see it: a route whose action names what the gateway answers itself. */
const edge = defineContract({
  service: "gateway",
  actions: { live: action({ input: z.object({}), output: z.unknown(), idempotent: true }) },
});

export interface LiveDeps extends HandlerDeps {
  readonly tracer: Tracer | undefined;
}

/** Registers the endpoint and the upgrade; the hub subscribes when the gateway is ready and closes with it. */
export function installLive(app: FastifyInstance, deps: LiveDeps, options: LiveOptions): LiveHub {
  const settings = resolveLiveOptions(options);
  const hub = new LiveHub(deps.host, settings, deps.log);
  const liveRoute = route({
    method: "GET",
    path: settings.path,
    action: edge.live,
    policies: [allowQueryToken(), ...(settings.policies ?? [authenticated()])],
  });
  const run = composePolicies([...deps.policies, ...liveRoute.policies], async (ex) => ex.caller);
  const userOf = async (exchange: Exchange): Promise<string> => {
    const caller = (await run(exchange)) as Identity | undefined;
    if (caller === undefined) throw new FlotillaError("UNAUTHENTICATED", "live push needs a signed-in caller");
    return caller.subject;
  };

  app.get(settings.path, async (req: FastifyRequest, reply: FastifyReply) => {
    const state = deps.stateOf(req) as RequestState;
    const exchange = new HttpExchange(requestView(req), liveRoute, state.ids, reply, deps.log);
    state.hold();
    let user: string;
    try {
      user = await userOf(exchange);
    } finally {
      state.release();
    }
    const resume = resumeOf(req.headers["last-event-id"], req.query as RequestView["query"]);
    admit(user, exchange);
    // From here the answer is ours to write, as a stream; the connection leaves the request ceiling,
    // which is for calls, and counts against the live limits instead.
    reply.hijack();
    state.release();
    const sink = new SseSink(reply.raw, settings.maxBufferedBytes, headersOf(reply), settings.retryMs);
    const connection = hub.open(user, sink, resume);
    reply.raw.once("close", () => hub.detach(connection));
  });

  /** A refusal says when to try again: the client's reconnection delay (rounded up to whole seconds). */
  const retryAfter = String(Math.max(1, Math.ceil(settings.retryMs / 1000)));
  const admit = (user: string, exchange: Exchange): void => {
    try {
      hub.admit(user);
    } catch (err) {
      exchange.setHeader("retry-after", retryAfter);
      throw err;
    }
  };

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  app.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const ids = edgeIds(req.headers, deps.tracer, "GET");
    upgrade(req, socket, head, ids).catch((err: unknown) => refuse(socket, err, ids, {}));
  });

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ids: EdgeIds): Promise<void> {
    const url = new URL(req.url ?? "/", "http://gateway");
    if (url.pathname !== settings.path) throw new FlotillaError("NOT_FOUND", "no WebSocket endpoint here");
    stripInternalHeaders(req.headers);
    const view: RequestView = {
      method: req.method ?? "GET",
      params: {},
      query: queryOf(url.searchParams),
      body: undefined,
      headers: req.headers,
      remoteAddress: req.socket.remoteAddress,
    };
    const exchange = new UpgradeExchange(view, liveRoute, ids, deps.log);
    let user: string;
    try {
      user = await userOf(exchange);
      admit(user, exchange);
    } catch (err) {
      refuse(socket, err, ids, exchange.headers);
      return;
    }
    const resume = resumeOf(req.headers["last-event-id"], view.query);
    sockets.handleUpgrade(req, socket, head, (ws) => {
      const sink = new WebSocketSink(ws, settings.maxBufferedBytes);
      let connection: ReturnType<LiveHub["open"]>;
      try {
        connection = hub.open(user, sink, resume);
      } catch {
        ws.close(1013, "try again later"); // filled up since admit: a race with another connection
        return;
      }
      ws.on("message", () => undefined); // clients have nothing to say; frames are bounded by maxPayload
      ws.once("close", () => {
        hub.detach(connection);
        endSpan(ids, 101);
      });
    });
  }

  app.addHook("onReady", async () => hub.start());
  app.addHook("preClose", async () => {
    await hub.close();
    sockets.close();
  });
  return hub;
}

/** `Last-Event-ID` (EventSource sends it on reconnect), or `?lastEventId=` (where a client cannot set headers). */
function resumeOf(header: string | string[] | undefined, query: RequestView["query"]): Cursor | undefined {
  const value = typeof header === "string" ? header : query.lastEventId;
  if (value === undefined) return undefined;
  if (typeof value !== "string") return parseCursor(","); // repeated: refused like any malformed id
  return parseCursor(value);
}

function headersOf(reply: FastifyReply): Record<string, string | number | string[]> {
  const out: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) out[name] = value;
  return out;
}

function queryOf(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of params) {
    const had = query[name];
    query[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  return query;
}

/** Answers a refused upgrade over the raw socket, in the gateway's error shape. */
function refuse(socket: Duplex, err: unknown, ids: EdgeIds, headers: Record<string, string>): void {
  const fe = FlotillaError.from(err);
  const status = httpStatusOf(fe);
  const body = JSON.stringify(errorBody(fe, status, ids.trace.traceId));
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`,
    "content-type: application/json; charset=utf-8",
    `content-length: ${Buffer.byteLength(body)}`,
    "connection: close",
    ...Object.entries({ ...headers, ...responseHeaders(ids) }).map(([name, value]) => `${name}: ${value}`),
  ];
  if (socket.writable) socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
  else socket.destroy();
  endSpan(ids, status);
}

function endSpan(ids: EdgeIds, status: number): void {
  const span = ids.span;
  if (span === undefined) return;
  span.updateName("GET live");
  span.setAttribute("http.response.status_code", status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
  span.end();
}

/** An upgrade request as policies see it: headers they set go on the refusal, if there is one. */
class UpgradeExchange implements Exchange {
  caller: Identity | undefined = undefined;
  timeoutMs: number | undefined = undefined;
  input: unknown = undefined;
  readonly headers: Record<string, string> = {};
  readonly log: Exchange["log"];

  constructor(
    readonly request: RequestView,
    readonly route: Route,
    readonly ids: EdgeIds,
    log: Exchange["log"],
  ) {
    this.log = log.child({ trace_id: ids.trace.traceId, correlation_id: ids.correlationId });
  }
  get trace() {
    return this.ids.trace;
  }
  get correlationId(): string {
    return this.ids.correlationId;
  }
  setHeader(name: string, value: string): void {
    if (/[\r\n]/.test(name + value)) throw new TypeError("header with a line break");
    this.headers[name] = value;
  }
}
