/** @module What every protocol's exchange shares: the request, its ids, its caller and a logger carrying its trace. */
import type { Host, Identity, TraceContext } from "@flotilla/core";
import type { EdgeIds } from "./edge-ids.js";
import type { Exchange } from "./policy.js";
import type { RequestView, Route } from "./route.js";

/** An exchange whose protocol decides only where the headers policies set go (`setHeader`). */
export abstract class EdgeExchange implements Exchange {
  caller: Identity | undefined = undefined;
  input: unknown = undefined;
  private _log: Host["log"] | undefined;

  constructor(
    readonly request: RequestView,
    readonly route: Route,
    readonly ids: EdgeIds,
    private readonly baseLog: Host["log"],
    public timeoutMs: number | undefined,
  ) {}

  get trace(): TraceContext {
    return this.ids.trace;
  }

  get correlationId(): string {
    return this.ids.correlationId;
  }

  get log(): Host["log"] {
    if (this._log === undefined) {
      const { trace, correlationId } = this.ids;
      this._log = this.baseLog.child({ trace_id: trace.traceId, span_id: trace.spanId, correlation_id: correlationId });
    }
    return this._log;
  }

  abstract setHeader(name: string, value: string): void;
}
