/** @module Errors with stable codes that survive every transport intact. */

/** gRPC-like status categories. Every error has one; domain codes map onto one of these. */
export const STATUS = [
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;
export type Status = (typeof STATUS)[number];

const STATUS_SET: ReadonlySet<string> = new Set(STATUS);

/** Statuses where trying again may succeed (the caller still decides whether the action is idempotent). */
const RETRYABLE_STATUS: ReadonlySet<Status> = new Set([
  "UNAVAILABLE",
  "RESOURCE_EXHAUSTED",
  "ABORTED",
  "DEADLINE_EXCEEDED",
]);

/**
 * An event that failed with one of these will fail the same way on every redelivery (its data does
 * not validate, or nothing can handle it), so it goes to the dead letters at once. Everything else is
 * redelivered with backoff until the delivery limit.
 */
const POISON_STATUS: ReadonlySet<string> = new Set(["INVALID_ARGUMENT", "UNIMPLEMENTED"]);

export function isPoison(status: string): boolean {
  return POISON_STATUS.has(status);
}

export function isStatus(value: string): value is Status {
  return STATUS_SET.has(value);
}

/** Error codes raised by Flotilla itself (beyond the plain status names). Never reuse a code. */
export const FlotillaCodes = {
  NO_HANDLER: { code: "FLOTILLA_NO_HANDLER", status: "UNIMPLEMENTED" },
  NO_INSTANCE: { code: "FLOTILLA_NO_INSTANCE", status: "UNAVAILABLE" },
  /** This process's own link to the broker is down: says nothing about the target service. */
  DISCONNECTED: { code: "FLOTILLA_DISCONNECTED", status: "UNAVAILABLE" },
  PAYLOAD_TOO_LARGE: { code: "FLOTILLA_PAYLOAD_TOO_LARGE", status: "RESOURCE_EXHAUSTED" },
  /** The callee's answer exceeded the limit: the callee's fault, not the caller's. */
  REPLY_TOO_LARGE: { code: "FLOTILLA_REPLY_TOO_LARGE", status: "INTERNAL" },
  /** An instance out of capacity: another instance, or the same one later, may take it. */
  OVERLOADED: { code: "FLOTILLA_OVERLOADED", status: "UNAVAILABLE" },
  BAD_ENVELOPE: { code: "FLOTILLA_BAD_ENVELOPE", status: "INVALID_ARGUMENT" },
  INVALID_OUTPUT: { code: "FLOTILLA_INVALID_OUTPUT", status: "INTERNAL" },
  SHUTTING_DOWN: { code: "FLOTILLA_SHUTTING_DOWN", status: "UNAVAILABLE" },
  /** A circuit breaker is open for the target: the call was not attempted. */
  CIRCUIT_OPEN: { code: "FLOTILLA_CIRCUIT_OPEN", status: "UNAVAILABLE" },
  /** A bulkhead's compartment for the action is full. */
  BULKHEAD_FULL: { code: "FLOTILLA_BULKHEAD_FULL", status: "UNAVAILABLE" },
  NOT_STARTED: { code: "FLOTILLA_NOT_STARTED", status: "UNAVAILABLE" },
  /** A definition or configuration the code itself got wrong: a bug, never the caller's input. */
  CONFIG: { code: "FLOTILLA_CONFIG", status: "INTERNAL" },
  MIGRATION_FAILED: { code: "FLOTILLA_MIGRATION_FAILED", status: "INTERNAL" },
  /** A dead letter that cannot be delivered again as it is (its group is gone, its data was dropped, …). */
  DEAD_LETTER_NOT_RETRYABLE: { code: "FLOTILLA_DEAD_LETTER_NOT_RETRYABLE", status: "FAILED_PRECONDITION" },
  /** A request's caller proof failed verification (forged, expired, or no keys to check it with). */
  CALLER_UNVERIFIED: { code: "FLOTILLA_CALLER_UNVERIFIED", status: "UNAUTHENTICATED" },
  /** A saga step's input could not be built from the saga's state, or its contract rejects it: the step fails definitely. */
  SAGA_STEP_INPUT: { code: "FLOTILLA_SAGA_STEP_INPUT", status: "INVALID_ARGUMENT" },
  /** Two outcomes of one saga were settled at once; the loser's command is sent again and then ignored. */
  SAGA_CONFLICT: { code: "FLOTILLA_SAGA_CONFLICT", status: "ABORTED" },
  /** A saga reached its deadline: it compensates instead of taking its next step. */
  SAGA_TIMEOUT: { code: "FLOTILLA_SAGA_TIMEOUT", status: "DEADLINE_EXCEEDED" },
  /** An idempotency key that is empty, longer than 255 characters, or not printable ASCII. */
  IDEMPOTENCY_KEY_INVALID: { code: "FLOTILLA_IDEMPOTENCY_KEY_INVALID", status: "INVALID_ARGUMENT" },
  /** An idempotency key used before, by the same caller on the same action, with another input (HTTP 422). */
  IDEMPOTENCY_KEY_REUSED: { code: "FLOTILLA_IDEMPOTENCY_KEY_REUSED", status: "FAILED_PRECONDITION" },
  /** A service that declares the actions it `calls` called one it did not declare: a bug in the caller. */
  CALL_NOT_DECLARED: { code: "FLOTILLA_CALL_NOT_DECLARED", status: "INTERNAL" },
  /** An instance would use another database than its service's running instances: it refuses to start. */
  DATABASE_MISMATCH: { code: "FLOTILLA_DATABASE_MISMATCH", status: "FAILED_PRECONDITION" },
  /** `flotilla dev`: the app's source does not parse or an import does not resolve; nothing was restarted. */
  DEV_SOURCE: { code: "FLOTILLA_DEV_SOURCE", status: "FAILED_PRECONDITION" },
} as const satisfies Record<string, { code: string; status: Status }>;

export interface ErrorOptions {
  /** Status category; defaults to the code itself when the code is a status name, else INTERNAL. */
  status?: Status;
  details?: unknown;
  /** Overrides the status's default retryability. */
  retryable?: boolean;
  cause?: unknown;
}

/** The serialized form that crosses the wire. */
export interface WireError {
  code: string;
  status: Status;
  message: string;
  retryable: boolean;
  details?: unknown;
  name?: string;
  cause?: WireError;
}

const MAX_CAUSE_DEPTH = 8;

export class FlotillaError extends Error {
  override readonly name = "FlotillaError";
  readonly code: string;
  readonly status: Status;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? (isStatus(code) ? code : "INTERNAL");
    this.retryable = options.retryable ?? RETRYABLE_STATUS.has(this.status);
    this.details = options.details;
  }

  /** Builds one of Flotilla's own errors from the FlotillaCodes table. */
  static of(
    entry: { code: string; status: Status },
    message: string,
    options: Omit<ErrorOptions, "status"> = {},
  ): FlotillaError {
    return new FlotillaError(entry.code, message, { ...options, status: entry.status });
  }

  /** Wraps anything thrown into a FlotillaError, keeping the original as the cause. */
  static from(err: unknown): FlotillaError {
    if (err instanceof FlotillaError) return err;
    if (err instanceof Error) {
      return new FlotillaError("INTERNAL", err.message || "internal error", { cause: err });
    }
    return new FlotillaError("UNKNOWN", typeof err === "string" ? err : "unknown error thrown", {
      details: safeDetails(err),
    });
  }

  toJSON(): WireError {
    return toWire(this);
  }
}

export function toWire(err: unknown, depth = 0): WireError {
  const fe = FlotillaError.from(err);
  const wire: WireError = {
    code: fe.code,
    status: fe.status,
    message: fe.message,
    retryable: fe.retryable,
  };
  if (fe.details !== undefined) wire.details = safeDetails(fe.details);
  // A wrapped plain Error keeps its own name so the receiver can tell a TypeError from a domain error.
  const original = err instanceof FlotillaError ? undefined : err;
  if (original instanceof Error && original.name !== "Error") wire.name = original.name;
  const cause = err instanceof FlotillaError ? err.cause : original instanceof Error ? original.cause : undefined;
  if (cause !== undefined && depth < MAX_CAUSE_DEPTH) wire.cause = toWire(cause, depth + 1);
  return wire;
}

export function fromWire(wire: unknown, depth = 0): FlotillaError {
  if (!isWireError(wire)) {
    return FlotillaError.of(FlotillaCodes.BAD_ENVELOPE, "malformed error on the wire", {
      details: safeDetails(wire),
    });
  }
  const cause = wire.cause !== undefined && depth < MAX_CAUSE_DEPTH ? fromWire(wire.cause, depth + 1) : undefined;
  return new FlotillaError(wire.code, wire.message, {
    status: wire.status,
    retryable: wire.retryable,
    details: wire.details,
    cause,
  });
}

function isWireError(value: unknown): value is WireError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.code === "string" &&
    typeof v.message === "string" &&
    typeof v.status === "string" &&
    isStatus(v.status) &&
    typeof v.retryable === "boolean"
  );
}

/** Details must survive JSON; anything that does not is replaced by a description. */
function safeDetails(details: unknown): unknown {
  try {
    return details === undefined ? undefined : JSON.parse(JSON.stringify(details));
  } catch {
    return String(details);
  }
}
