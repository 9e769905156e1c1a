/**
 * @module A `TraceQuery` as URL parameters and back: what `GET /traces` on an ops port takes and
 * `flotilla traces --url` sends (`service`, `route`, `status`, `minMs`, `sinceMs`, `order`, `limit`).
 */
import { FlotillaError } from "@flotilla/core";
import type { TraceQuery } from "./trace-store.js";

/** The most traces one request lists. */
export const MAX_TRACES_LIMIT = 1000;

const TRACE_ID = /^[0-9a-f]{32}$/;

export function traceQueryToParams(query: TraceQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (query.service !== undefined) params.set("service", query.service);
  if (query.route !== undefined) params.set("route", query.route);
  if (query.status !== undefined) params.set("status", query.status);
  if (query.minDurationMs !== undefined) params.set("minMs", String(query.minDurationMs));
  if (query.sinceMs !== undefined) params.set("sinceMs", String(query.sinceMs));
  if (query.order !== undefined) params.set("order", query.order);
  if (query.limit !== undefined) params.set("limit", String(query.limit));
  return params;
}

/** Reads the parameters back; INVALID_ARGUMENT names the first one that is wrong. */
export function traceQueryFromParams(params: URLSearchParams): TraceQuery {
  const known = new Set(["service", "route", "status", "minMs", "sinceMs", "order", "limit"]);
  for (const key of params.keys()) if (!known.has(key)) throw invalid(`unknown parameter "${key}"`);
  const query: { -readonly [K in keyof TraceQuery]: TraceQuery[K] } = {};
  const service = params.get("service");
  if (service !== null && service !== "") query.service = service;
  const route = params.get("route");
  if (route !== null && route !== "") query.route = route;
  const status = params.get("status");
  if (status !== null) {
    if (status !== "ok" && status !== "error") throw invalid(`status must be ok or error, got "${status}"`);
    query.status = status;
  }
  const order = params.get("order");
  if (order !== null) {
    if (order !== "recent" && order !== "slowest") throw invalid(`order must be recent or slowest, got "${order}"`);
    query.order = order;
  }
  const minMs = number(params, "minMs");
  if (minMs !== undefined) query.minDurationMs = minMs;
  const sinceMs = number(params, "sinceMs");
  if (sinceMs !== undefined) query.sinceMs = sinceMs;
  const limit = params.get("limit");
  if (limit !== null) {
    const n = Number(limit);
    if (!/^\d+$/.test(limit) || n < 1 || n > MAX_TRACES_LIMIT) {
      throw invalid(`limit must be an integer from 1 to ${MAX_TRACES_LIMIT}, got "${limit}"`);
    }
    query.limit = n;
  }
  return query;
}

/** Whether `id` is a trace id as stores keep them: 32 lowercase hex characters, not all zero. */
export function isTraceId(id: string): boolean {
  return TRACE_ID.test(id) && !/^0+$/.test(id);
}

function number(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw invalid(`${name} must be a number of milliseconds, got "${value}"`);
  }
  return n;
}

function invalid(message: string): FlotillaError {
  return new FlotillaError("INVALID_ARGUMENT", message);
}
