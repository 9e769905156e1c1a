/** @module One shadow call: a read sent to the variant that did not serve it, answered as status and body, never to the client. */
import { formatTraceparent, type Host, type Identity } from "@flotilla/core";
import { SpanTrace } from "@flotilla/telemetry";
import type { Span } from "@opentelemetry/api";
import { EdgeExchange } from "../edge-exchange.js";
import type { EdgeIds } from "../edge-ids.js";
import { errorBody, httpStatusOf, toFlotillaError } from "../http-errors.js";
import { composePolicies, type Policy } from "../policy.js";
import type { RequestView, Route } from "../route.js";
import { actionCall, type CallSteering } from "../route-handler.js";
import { upstreamRequestHeaders } from "../upstream/forward-headers.js";
import { upstreamPath } from "../upstream/proxy-handler.js";
import type { ProxyRoute } from "../upstream/proxy-route.js";
import type { Upstream } from "../upstream/upstream.js";
import type { ComparedAnswer } from "./comparison-report.js";

/** A shadow answer's body is read up to this many bytes; a longer one is compared by status only. */
export const MAX_COMPARED_BYTES = 1024 * 1024;

/** The request as the served variant saw it, for a shadow call to repeat. */
export interface ShadowRequest {
  readonly view: RequestView;
  readonly url: string;
  readonly caller: Identity | undefined;
  readonly ids: EdgeIds;
  /** The shadow call's own span: its context is what the shadow variant sees as its parent. */
  readonly span: Span | undefined;
  readonly secure: boolean;
}

/** Calls one variant for a shadow request and resolves with its answer; failures without an answer reject. */
export type ShadowCaller = (request: ShadowRequest) => Promise<ComparedAnswer>;

/** An exchange whose headers go nowhere: a shadow answer never reaches the client. */
class ShadowExchange extends EdgeExchange {
  override get trace() {
    return this.span === undefined ? this.ids.trace : new SpanTrace(this.span);
  }
  constructor(
    request: RequestView,
    route: Route,
    ids: EdgeIds,
    log: Host["log"],
    private readonly span: Span | undefined,
  ) {
    super(request, route, ids, log, route.timeoutMs);
  }
  setHeader(): void {}
}

/**
 * Shadows an action route: its own policies (the gateway's global ones ran for the served request;
 * their `around` hooks are passed in `globalAround`), its input, the call, and the answer it would give.
 */
export function actionShadow(
  route: Route,
  host: Host,
  log: Host["log"],
  globalAround: readonly Policy[],
  steer: CallSteering | undefined,
): ShadowCaller {
  const run = composePolicies([...globalAround, ...route.policies], actionCall(host, route, steer));
  return async ({ view, caller, ids, span }) => {
    // Its own copy of the request: policies may change the query (a token taken out of it).
    const request: RequestView = { ...view, query: { ...view.query } };
    const exchange = new ShadowExchange(request, route, ids, log, span);
    exchange.caller = caller;
    try {
      const output = await run(exchange);
      if (output === undefined || route.status === 204)
        return { status: route.status === 200 ? 204 : route.status, body: undefined };
      return { status: route.status, body: output };
    } catch (err) {
      const fe = toFlotillaError(err, 0);
      const status = httpStatusOf(fe);
      return { status, body: errorBody(fe, status, ids.trace.traceId) };
    }
  };
}

/** Shadows a proxy route: the request sent to one target of its upstream (no retries), the answer read whole. */
export function proxyShadow(p: ProxyRoute, upstream: Upstream): ShadowCaller {
  return async ({ view, url, caller, ids, span, secure }) => {
    const target = upstream.pick(new Set());
    if (target === undefined) throw new Error(`no target of upstream ${upstream.name} may take requests now`);
    const traceparent = span === undefined ? ids.traceparent : formatTraceparent(new SpanTrace(span));
    const host = view.headers[":authority"] ?? view.headers.host;
    const answer = await target.pool.request({
      method: "GET",
      path: upstreamPath(p, view.params, url),
      headers: upstreamRequestHeaders(view.headers, {
        clientAddress: view.remoteAddress,
        proto: secure ? "https" : "http",
        host: typeof host === "string" ? host : undefined,
        targetHost: target.host,
        traceparent,
        ...(p.callerHeader === undefined ? {} : { caller: { header: p.callerHeader, subject: caller?.subject } }),
      }),
      headersTimeout: upstream.options.timeoutMs,
      bodyTimeout: upstream.options.bodyTimeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of answer.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_COMPARED_BYTES) {
        answer.body.destroy();
        return { status: answer.statusCode, body: undefined };
      }
      chunks.push(chunk as Buffer);
    }
    return { status: answer.statusCode, body: parsedBody(Buffer.concat(chunks).toString("utf8")) };
  };
}

/** JSON when it parses, else the text itself (compared as a string). */
export function parsedBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
