/**
 * @module What every gRPC call carries, as an HTTP request does: its ids and SERVER span (with the rpc
 * attributes of OpenTelemetry's conventions), its concurrency slot, and at its end one access-log line,
 * the RED metrics and the span's status.
 */
import { FlotillaCodes, FlotillaError, type Host } from "@flotilla/core";
import { status as GrpcStatus, type Metadata, type ServerErrorResponse } from "@grpc/grpc-js";
import { SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { AccessLog } from "../access-log.js";
import type { ConcurrencyLimit } from "../concurrency-limit.js";
import { edgeIds } from "../edge-ids.js";
import { GatewayCodes } from "../http-errors.js";
import type { GatewayMetrics } from "../metrics-endpoint.js";
import type { Policy } from "../policy.js";
import { RequestState } from "../request-state.js";
import type { CallSteering } from "../route-handler.js";
import { errorTrailers, GrpcMetadataKeys, grpcCodeOf, httpStatusOfGrpcCode } from "./grpc-status.js";

/** What the gRPC handlers share with the gateway. */
export interface GrpcDeps {
  readonly host: Host;
  readonly log: Host["log"];
  readonly policies: readonly Policy[];
  readonly tracer: Tracer | undefined;
  readonly metrics: GatewayMetrics | undefined;
  readonly logAccess: AccessLog;
  /** The gateway's ceiling on concurrent requests: HTTP and gRPC calls share it. */
  readonly ceiling: ConcurrencyLimit;
  readonly closing: () => boolean;
  /** The version prefixes a call prefers (the gateway's version splits); absent: none. */
  readonly steer?: CallSteering | undefined;
}

/** Codes a server answers for its own faults: the span records them as errors (OpenTelemetry's rpc conventions). */
const SERVER_FAULTS: ReadonlySet<GrpcStatus> = new Set([
  GrpcStatus.UNKNOWN,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.UNIMPLEMENTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
]);

export class GrpcCall {
  readonly state: RequestState;
  private ended = false;

  /** `path` is the rpc's, `/flotilla.shop.v1.CatalogService/GetProduct`. */
  constructor(
    private readonly deps: GrpcDeps,
    readonly path: string,
    headers: Record<string, string>,
  ) {
    const ids = edgeIds(headers, deps.tracer, "POST");
    const [service, method] = path.slice(1).split("/") as [string, string];
    ids.span?.updateName(`${service}/${method}`);
    ids.span?.setAttributes({ "rpc.system": "grpc", "rpc.service": service, "rpc.method": method });
    this.state = new RequestState(ids);
    this.state.route = path;
    deps.metrics?.started();
  }

  get ids() {
    return this.state.ids;
  }

  /** Takes a slot of the gateway's ceiling; refuses the call while the gateway closes or is full. */
  admit(): void {
    if (this.deps.closing()) throw FlotillaError.of(FlotillaCodes.SHUTTING_DOWN, "the gateway is shutting down");
    if (!this.state.admit(this.deps.ceiling)) {
      throw FlotillaError.of(GatewayCodes.GATEWAY_OVERLOADED, "the gateway is at capacity, retry shortly");
    }
  }

  /** The status to send for `err`, with its trailers; logs a server fault. */
  failure(err: unknown, trailers: Metadata): ServerErrorResponse {
    const fe = FlotillaError.from(err);
    const code = grpcCodeOf(fe.status);
    const hidden = httpStatusOfGrpcCode(code) === 500;
    const { ids } = this.state;
    ids.span?.setAttribute("error.type", fe.code);
    if (hidden) {
      this.deps.log.error(
        { err, code: fe.code, route: this.path, trace_id: ids.trace.traceId, correlation_id: ids.correlationId },
        "request failed",
      );
    }
    if (fe.code === GatewayCodes.GATEWAY_OVERLOADED.code) trailers.set("retry-after", "1");
    return {
      name: "FlotillaError",
      code,
      message: hidden ? "internal error" : fe.message,
      details: hidden ? "internal error" : fe.message,
      metadata: errorTrailers(fe, ids.trace.traceId, hidden, trailers),
    } as ServerErrorResponse;
  }

  /** The trailers of a successful answer: the trace id beside what policies set. */
  success(trailers: Metadata): Metadata {
    trailers.set(GrpcMetadataKeys.traceId, this.state.ids.trace.traceId);
    return trailers;
  }

  /** Once per call: frees its slot, logs, records its metrics and ends its span. */
  end(code: GrpcStatus): void {
    if (this.ended) return;
    this.ended = true;
    this.state.release();
    const status = httpStatusOfGrpcCode(code);
    this.deps.logAccess("POST", this.path, this.state, status);
    this.deps.metrics?.finished("POST", this.path, status, (performance.now() - this.state.start) / 1000);
    const span = this.state.ids.span;
    if (span === undefined) return;
    span.setAttribute("rpc.grpc.status_code", code);
    if (SERVER_FAULTS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: GrpcStatus[code] });
    span.end();
  }
}
