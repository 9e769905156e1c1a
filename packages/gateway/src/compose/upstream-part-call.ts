/** @module An upstream part: one GET to a target of a named upstream, through its breaker, with a CLIENT span, read as JSON. */
import { FlotillaCodes, FlotillaError, formatTraceparent } from "@flotilla/core";
import { SpanTrace } from "@flotilla/telemetry";
import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Dispatcher } from "undici";
import type { z } from "zod";
import { GatewayCodes } from "../http-errors.js";
import type { Upstream } from "../upstream/upstream.js";
import { CircuitOpen, isClientAbort, type UpstreamTarget } from "../upstream/upstream-target.js";
import type { PartCall } from "./part-call.js";

/**
 * GETs `path` from one available target (no retry: a part has its own small time budget) and parses its
 * JSON. A non-2xx answer, a body that is not JSON (or over the body limit) or does not fit `schema` is
 * FLOTILLA_UPSTREAM_UNAVAILABLE; no answer in time is FLOTILLA_UPSTREAM_TIMEOUT.
 */
export async function fetchUpstreamJson(
  name: string,
  path: string,
  schema: z.ZodType | undefined,
  call: PartCall,
): Promise<unknown> {
  if (!path.startsWith("/")) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `upstream part ${name}: the path must start with /`);
  }
  const upstream = call.upstream(name);
  const target = upstream.pick(new Set());
  if (target === undefined) throw circuitOpen(upstream);
  const span = startSpan(call, target, path);
  const timeoutMs = call.timeoutMs ?? upstream.options.timeoutMs;
  const started = performance.now();
  target.inFlight++;
  let outcome = "error";
  try {
    const answer = await target.run(() =>
      target.pool.request({
        method: "GET",
        path,
        headers: {
          host: target.host,
          accept: "application/json",
          "user-agent": "flotilla-gateway",
          traceparent: formatTraceparent(span === undefined ? call.trace : new SpanTrace(span)),
          "x-correlation-id": call.exchange.correlationId,
        },
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      }),
    );
    target.reached();
    outcome = String(answer.statusCode);
    span?.setAttribute("http.response.status_code", answer.statusCode);
    const text = await readLimited(answer, call.bodyLimitBytes, name);
    if (answer.statusCode < 200 || answer.statusCode > 299) {
      throw unusable(name, target, `answered ${answer.statusCode}`, { status: answer.statusCode });
    }
    const json = parseJson(text, name, target);
    if (schema === undefined) return json;
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw unusable(name, target, "answered JSON that does not fit the part's schema");
    return parsed.data;
  } catch (err) {
    const error = failure(err, name, target);
    if (error.code === GatewayCodes.UPSTREAM_TIMEOUT.code) outcome = "timeout";
    span?.setAttribute("error.type", error.code);
    span?.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    throw error;
  } finally {
    target.inFlight--;
    call.upstreamMetrics?.attempted(name, target.origin, outcome, (performance.now() - started) / 1000);
    span?.end();
  }
}

function startSpan(call: PartCall, target: UpstreamTarget, path: string): Span | undefined {
  if (call.tracer === undefined) return undefined;
  const url = new URL(target.origin);
  return call.tracer.startSpan(
    "GET",
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "http.request.method": "GET",
        "server.address": url.hostname,
        "server.port": Number(url.port || (url.protocol === "https:" ? 443 : 80)),
        "url.full": `${target.origin}${path}`,
      },
    },
    call.span === undefined ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, call.span),
  );
}

async function readLimited(answer: Dispatcher.ResponseData, limit: number, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of answer.body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      answer.body.destroy();
      throw FlotillaError.of(GatewayCodes.UPSTREAM_UNAVAILABLE, `upstream ${name} answered more than ${limit} bytes`, {
        details: { upstream: name, reason: "too large" },
      });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string, name: string, target: UpstreamTarget): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw unusable(name, target, "answered something that is not JSON");
  }
}

function unusable(
  name: string,
  target: UpstreamTarget,
  what: string,
  extra: Record<string, unknown> = {},
): FlotillaError {
  return FlotillaError.of(GatewayCodes.UPSTREAM_UNAVAILABLE, `upstream ${name} ${what}`, {
    details: { upstream: name, target: target.origin, ...extra },
  });
}

function failure(err: unknown, name: string, target: UpstreamTarget): FlotillaError {
  if (err instanceof FlotillaError) return err;
  if (err instanceof CircuitOpen) return unusable(name, target, "has an open circuit");
  const code = String((err as { code?: unknown }).code ?? "");
  const timedOut =
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT" ||
    code === "UND_ERR_CONNECT_TIMEOUT" ||
    (err as { name?: unknown }).name === "TimeoutError" ||
    isClientAbort(err);
  const details = { upstream: name, target: target.origin, reason: code || "unknown" };
  if (timedOut) {
    return FlotillaError.of(GatewayCodes.UPSTREAM_TIMEOUT, `upstream ${name} did not answer in time`, { details });
  }
  target.unreachable(`part request failed: ${code || "unknown"}`);
  return FlotillaError.of(GatewayCodes.UPSTREAM_UNAVAILABLE, `upstream ${name} could not be reached`, {
    details,
    cause: err,
  });
}

function circuitOpen(upstream: Upstream): FlotillaError {
  return FlotillaError.of(
    GatewayCodes.UPSTREAM_CIRCUIT_OPEN,
    `no target of upstream ${upstream.name} may take requests now`,
    {
      details: { upstream: upstream.name },
    },
  );
}
