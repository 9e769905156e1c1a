/**
 * @module Flotilla errors ⇄ gRPC status. Flotilla's status categories are gRPC's own names, so a
 * FlotillaError's category is its gRPC code; the Flotilla code and the trace id travel in trailing
 * metadata. Back from gRPC, the trailer's code is kept, else the status name becomes the code.
 */
import { FlotillaError, isStatus, type Status } from "@flotilla/core";
import { status as GrpcStatus, Metadata, type ServiceError } from "@grpc/grpc-js";
import { HTTP_STATUS } from "../http-errors.js";

/** Trailing metadata of an error (and of every answer, for the trace id). */
export const GrpcMetadataKeys = {
  code: "flotilla-code",
  traceId: "flotilla-trace-id",
  /** JSON of the error's details (for INVALID_ARGUMENT: the failing fields), UTF-8. */
  details: "flotilla-details-bin",
} as const;

/** The gRPC code of a Flotilla status category: the same name. */
export function grpcCodeOf(status: Status): GrpcStatus {
  return GrpcStatus[status];
}

/** The Flotilla status category of a gRPC code (OK has none). */
export function statusOfGrpcCode(code: GrpcStatus): Status | undefined {
  const name = GrpcStatus[code];
  return name !== undefined && isStatus(name) ? name : undefined;
}

/** The HTTP status the gateway answers for a gRPC code, e.g. 5 (NOT_FOUND) → 404; 0 (OK) → 200. */
export function httpStatusOfGrpcCode(code: GrpcStatus): number {
  const status = statusOfGrpcCode(code);
  return status === undefined ? (code === GrpcStatus.OK ? 200 : 500) : HTTP_STATUS[status];
}

/**
 * A failed gRPC call as the FlotillaError the gateway would have answered over HTTP: the code from the
 * `flotilla-code` trailer when present (the status name otherwise), the details from `flotilla-details-bin`.
 */
export function flotillaErrorOfGrpc(err: Pick<ServiceError, "code" | "details" | "metadata">): FlotillaError {
  const status = statusOfGrpcCode(err.code) ?? "UNKNOWN";
  const code = err.metadata?.get(GrpcMetadataKeys.code)[0];
  const raw = err.metadata?.get(GrpcMetadataKeys.details)[0];
  let details: unknown;
  if (Buffer.isBuffer(raw)) {
    try {
      details = JSON.parse(raw.toString("utf8"));
    } catch {
      details = undefined; // a peer's malformed trailer: the code and message still say what failed
    }
  }
  return new FlotillaError(typeof code === "string" ? code : status, err.details ?? "", { status, details });
}

/** Trailing metadata naming the code, the trace and (when there are any) the details of `err`. */
export function errorTrailers(err: FlotillaError, traceId: string, hidden: boolean, into = new Metadata()): Metadata {
  into.set(GrpcMetadataKeys.code, hidden ? internalCode(err) : err.code);
  into.set(GrpcMetadataKeys.traceId, traceId);
  if (!hidden && err.details !== undefined) {
    into.set(GrpcMetadataKeys.details, Buffer.from(JSON.stringify(err.toJSON().details)));
  }
  return into;
}

/** What a client learns of a server fault: its category, never its message (the log has the rest). */
export function internalCode(err: FlotillaError): string {
  return err.status === "UNKNOWN" || err.status === "DATA_LOSS" ? err.status : "INTERNAL";
}
