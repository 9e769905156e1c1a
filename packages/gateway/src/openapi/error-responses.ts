/** @module The error answers a route can give, derived from its action's contract, its policies and its method. */
import { FlotillaCodes, type Status } from "@flotilla/core";
import { GatewayCodes, HTTP_STATUS, HTTP_STATUS_BY_CODE } from "../http-errors.js";
import type { Route } from "../route.js";
import type { DocumentedError } from "./policy-docs.js";

/** The gateway's error body, as `errorBody` builds it. */
export const ERROR_SCHEMA = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "traceId"],
      properties: {
        code: { type: "string", description: "A stable code, e.g. PRODUCT_NOT_FOUND or FLOTILLA_RATE_LIMITED" },
        message: { type: "string", description: "For people; may change between versions" },
        traceId: { type: "string", description: "The request's trace id, also in the x-trace-id header" },
        details: { description: "Structured details, e.g. the failing fields of invalid input" },
      },
    },
  },
} as const;

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/** Every route may answer these, whatever its action: refused input, a fault, shedding or shutdown, a deadline. */
const ALWAYS: readonly DocumentedError[] = [
  { code: "INVALID_ARGUMENT", status: "INVALID_ARGUMENT" },
  { code: "INTERNAL", status: "INTERNAL" },
  { ...GatewayCodes.GATEWAY_OVERLOADED, headers: ["retry-after"] },
  FlotillaCodes.SHUTTING_DOWN,
  FlotillaCodes.NO_INSTANCE,
  { code: "DEADLINE_EXCEEDED", status: "DEADLINE_EXCEEDED" },
];

/** Body methods add the body's own failures: not JSON, too deep, too large, not `application/json`. */
const BODY: readonly DocumentedError[] = [
  GatewayCodes.MALFORMED_JSON,
  GatewayCodes.JSON_TOO_DEEP,
  FlotillaCodes.PAYLOAD_TOO_LARGE,
  GatewayCodes.UNSUPPORTED_MEDIA_TYPE,
];

/** An action that keeps answers by `Idempotency-Key` refuses a malformed key, and a key reused with another input. */
const IDEMPOTENCY: readonly DocumentedError[] = [
  FlotillaCodes.IDEMPOTENCY_KEY_INVALID,
  FlotillaCodes.IDEMPOTENCY_KEY_REUSED,
];

export interface ErrorAnswer {
  readonly status: number;
  readonly codes: readonly string[];
  readonly headers: readonly string[];
}

/**
 * The route's error answers by HTTP status, each with the codes it may carry. The contract's declared errors
 * are the whole service's (a contract declares them per service, not per action), so a route lists its
 * service's codes even where its action never raises one of them.
 */
export function errorAnswers(route: Route, fromPolicies: readonly DocumentedError[]): ErrorAnswer[] {
  const contract = Object.entries(route.action.errors).map(([code, status]) => ({ code, status }));
  const all: DocumentedError[] = [
    ...ALWAYS,
    ...(BODY_METHODS.has(route.method) ? BODY : []),
    ...(route.action.idempotencyKey === undefined ? [] : IDEMPOTENCY),
    ...fromPolicies,
    ...contract,
  ];
  const byStatus = new Map<number, { codes: Set<string>; headers: Set<string> }>();
  for (const e of all) {
    const status = HTTP_STATUS_BY_CODE[e.code] ?? HTTP_STATUS[e.status as Status] ?? 500;
    const entry = byStatus.get(status) ?? { codes: new Set(), headers: new Set() };
    // A 500 says nothing beyond its category (see errorBody), so its codes are the categories.
    entry.codes.add(status === 500 ? "INTERNAL" : e.code);
    for (const h of e.headers ?? []) entry.headers.add(h);
    byStatus.set(status, entry);
  }
  return [...byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, e]) => ({ status, codes: [...e.codes], headers: [...e.headers] }));
}
