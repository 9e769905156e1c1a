/** @module One request forwarded to an upstream: target by target, with retries for idempotent requests, a CLIENT span per attempt, and the answer streamed back. */
import type { IncomingMessage } from "node:http";
import { Transform } from "node:stream";
import { FlotillaCodes, FlotillaError, formatTraceparent } from "@flotilla/core";
import { SpanTrace } from "@flotilla/telemetry";
import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import type { FastifyReply } from "fastify";
import type { Dispatcher } from "undici";
import type { EdgeIds } from "../edge-ids.js";
import { GatewayCodes } from "../http-errors.js";
import { bodyTooLarge } from "../request-guard.js";
import { clientResponseHeaders, type Hop, upstreamRequestHeaders } from "./forward-headers.js";
import type { Upstream } from "./upstream.js";
import type { UpstreamMetrics } from "./upstream-metrics.js";
import { CircuitOpen, isClientAbort, type UpstreamTarget } from "./upstream-target.js";

/** RFC 9110 §9.2.2: methods whose repetition has the effect of one request. */
const IDEMPOTENT: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

/** What forwarding needs beyond the request: the gateway's tracer, metrics and body limit. */
export interface ForwardDeps {
  readonly tracer: Tracer | undefined;
  readonly metrics: UpstreamMetrics | undefined;
  readonly bodyLimitBytes: number;
}

/** One request to forward, as the proxy route (or, later, a traffic split) hands it over. */
export interface Forward {
  readonly req: IncomingMessage;
  readonly reply: FastifyReply;
  readonly ids: EdgeIds;
  /** Path and query to send upstream. */
  readonly path: string;
  readonly hop: Omit<Hop, "targetHost" | "traceparent">;
}

/**
 * Sends the request to one target after another until one answers, then streams that answer to the
 * client. Only an idempotent request without a body is tried again, on a target not tried yet, and only
 * when no answer came (refused, reset, connect timeout): a body stream cannot be replayed, and nothing of
 * the answer has reached the client before its head arrived, so a retry never follows a partial answer.
 * A target whose breaker refuses is skipped without counting as an attempt.
 */
export async function forward(upstream: Upstream, request: Forward, deps: ForwardDeps): Promise<FastifyReply> {
  const { req, reply } = request;
  const method = req.method ?? "GET";
  const hasBody = hasRequestBody(req);
  const attempts = IDEMPOTENT.has(method) && !hasBody ? 1 + upstream.options.retries : 1;
  const body = hasBody ? limitedBody(req, deps.bodyLimitBytes) : undefined;
  const abort = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  const tried = new Set<UpstreamTarget>();
  let failure: FlotillaError | undefined;
  for (let attempt = 0; attempt < attempts; ) {
    const target = upstream.pick(tried);
    if (target === undefined) break;
    tried.add(target);
    const span = startSpan(deps.tracer, request, method, target, attempt);
    const started = performance.now();
    target.inFlight++;
    let answer: Dispatcher.ResponseData;
    try {
      answer = await target.run(() =>
        target.pool.request({
          method: method as Dispatcher.HttpMethod,
          path: request.path,
          headers: upstreamRequestHeaders(req.headers, {
            ...request.hop,
            targetHost: target.host,
            traceparent: span === undefined ? request.ids.traceparent : formatTraceparent(new SpanTrace(span)),
          }),
          body: body ?? null,
          signal: abort.signal,
          headersTimeout: upstream.options.timeoutMs,
          bodyTimeout: upstream.options.bodyTimeoutMs,
        }),
      );
    } catch (err) {
      target.inFlight--;
      if (err instanceof CircuitOpen) {
        span?.end();
        continue;
      }
      attempt++;
      const outcome = classify(err, upstream, target);
      deps.metrics?.attempted(upstream.name, target.origin, outcome.metric, seconds(started));
      endSpan(span, undefined, outcome.error);
      if (outcome.unreachable) target.unreachable(outcome.error.message);
      if (abort.signal.aborted || outcome.error.code === FlotillaCodes.PAYLOAD_TOO_LARGE.code) throw outcome.error;
      failure = outcome.error;
      if (!outcome.retry) break;
      continue;
    }
    target.reached();
    deps.metrics?.attempted(upstream.name, target.origin, String(answer.statusCode), seconds(started));
    answer.body.once("close", () => {
      target.inFlight--;
      endSpan(span, answer.statusCode, answer.body.errored ?? undefined);
    });
    reply.code(answer.statusCode).headers(clientResponseHeaders(answer.headers));
    if (method === "HEAD" || answer.statusCode === 204 || answer.statusCode === 304) {
      answer.body.resume();
      return reply.send();
    }
    return reply.send(answer.body);
  }
  throw failure ?? noTarget(upstream, reply);
}

interface Outcome {
  readonly error: FlotillaError;
  /** The label of `flotilla_upstream_requests_total`. */
  readonly metric: "timeout" | "error";
  /** No answer came because the target could not be reached: counts toward taking it out. */
  readonly unreachable: boolean;
  /** Another target may answer where this one did not. */
  readonly retry: boolean;
}

/** Connection-level failures: nothing answered, so another target may. */
const UNREACHABLE: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

function classify(err: unknown, upstream: Upstream, target: UpstreamTarget): Outcome {
  if (err instanceof FlotillaError) return { error: err, metric: "error", unreachable: false, retry: false };
  const code = String((err as { code?: unknown }).code ?? "");
  const details = { upstream: upstream.name, target: target.origin, reason: code || "unknown" };
  if (isClientAbort(err)) {
    const error = new FlotillaError("CANCELLED", "the client closed the request");
    return { error, metric: "error", unreachable: false, retry: false };
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT") {
    const what = code === "UND_ERR_CONNECT_TIMEOUT" ? "did not accept a connection" : "did not answer";
    const error = FlotillaError.of(GatewayCodes.UPSTREAM_TIMEOUT, `upstream ${upstream.name} ${what} in time`, {
      details,
    });
    // A head that never came used up the request's time already; a connection that never opened did not.
    const connect = code === "UND_ERR_CONNECT_TIMEOUT";
    return { error, metric: "timeout", unreachable: connect, retry: connect };
  }
  const unreachable = UNREACHABLE.has(code);
  const message = unreachable
    ? `upstream ${upstream.name} could not be reached`
    : `upstream ${upstream.name} gave no usable answer`;
  const error = FlotillaError.of(GatewayCodes.UPSTREAM_UNAVAILABLE, message, { details, cause: err });
  return { error, metric: "error", unreachable, retry: unreachable };
}

/** Every target is out (breaker open or failing checks): 503 with a hint of when to come back. */
function noTarget(upstream: Upstream, reply: FastifyReply): FlotillaError {
  const { circuitBreaker, healthCheck } = upstream.options;
  const waitMs = Math.min(circuitBreaker?.halfOpenAfterMs ?? Infinity, healthCheck?.intervalMs ?? Infinity);
  reply.header("retry-after", String(Number.isFinite(waitMs) ? Math.max(1, Math.ceil(waitMs / 1000)) : 1));
  return FlotillaError.of(
    GatewayCodes.UPSTREAM_CIRCUIT_OPEN,
    `no target of upstream ${upstream.name} may take requests now`,
    {
      details: {
        upstream: upstream.name,
        targets: upstream.snapshot().map(({ target, healthy, breaker }) => ({ target, healthy, breaker })),
      },
    },
  );
}

/**
 * HTTP/1.1 announces a body by its length or chunked coding; HTTP/2 by not ending the stream with the
 * head (a length is optional there).
 */
function hasRequestBody(req: IncomingMessage): boolean {
  if (req.httpVersionMajor === 2)
    return (req as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders === false;
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

/**
 * The request body as the upstream gets it. A declared length was checked against the limit with the
 * head (413 before reading); a chunked body is counted as it streams and cut off past the limit.
 */
function limitedBody(req: IncomingMessage, limit: number): IncomingMessage | Transform {
  if (req.headers["content-length"] !== undefined) return req;
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(seen > limit ? bodyTooLarge(limit) : null, chunk);
    },
  });
  req.on("error", (err) => counter.destroy(err));
  return req.pipe(counter);
}

function startSpan(
  tracer: Tracer | undefined,
  request: Forward,
  method: string,
  target: UpstreamTarget,
  attempt: number,
): Span | undefined {
  if (tracer === undefined) return undefined;
  const parent = request.ids.span === undefined ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, request.ids.span);
  const url = new URL(target.origin);
  return tracer.startSpan(
    method,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "http.request.method": method,
        "server.address": url.hostname,
        "server.port": Number(url.port || (url.protocol === "https:" ? 443 : 80)),
        "url.full": `${target.origin}${request.path}`,
        ...(attempt > 0 ? { "http.request.resend_count": attempt } : {}),
      },
    },
    parent,
  );
}

function endSpan(span: Span | undefined, status: number | undefined, error: Error | undefined): void {
  if (span === undefined) return;
  if (status !== undefined) span.setAttribute("http.response.status_code", status);
  if (error !== undefined) {
    span.setAttribute("error.type", error instanceof FlotillaError ? error.code : error.name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else if (status !== undefined && status >= 500) {
    span.setAttribute("error.type", String(status));
    span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
  }
  span.end();
}

function seconds(started: number): number {
  return (performance.now() - started) / 1000;
}
