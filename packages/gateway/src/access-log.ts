/** @module The access log: one line per request, or per failed request, built without intermediate objects. */
import type { Host } from "@flotilla/core";
import type { RequestState } from "./request-state.js";

/** `true` (the default): every request; `"errors"`: answers of 400 and above (499 included); `false`: none. */
export type AccessLogMode = boolean | "errors";

const MAX_LOGGED_PATH = 256;

export type AccessLog = (method: string, url: string, state: RequestState, status: number) => void;

export function accessLog(log: Host["log"], mode: AccessLogMode): AccessLog {
  if (mode === false) return () => {};
  const minStatus = mode === "errors" ? 400 : 0;
  return (method, url, state, status) => {
    if (status < minStatus) return;
    const durationMs = Math.round((performance.now() - state.start) * 100) / 100;
    const { traceId: trace_id, spanId: span_id } = state.ids.trace;
    const correlation_id = state.ids.correlationId;
    // Two literal shapes rather than a spread: the unmatched one adds the path (never the query).
    if (state.route !== undefined) {
      log.info({ method, route: state.route, status, durationMs, trace_id, span_id, correlation_id }, "request");
    } else {
      const path = pathOf(url);
      log.info({ method, route: null, path, status, durationMs, trace_id, span_id, correlation_id }, "request");
    }
  };
}

function pathOf(url: string): string {
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  return path.length > MAX_LOGGED_PATH ? `${path.slice(0, MAX_LOGGED_PATH)}…` : path;
}
