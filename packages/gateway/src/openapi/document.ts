/** @module The OpenAPI 3.1 document of a gateway: its routes, their actions' schemas and their policies. */
import type { Policy } from "../policy.js";
import type { Route } from "../route.js";
import { ERROR_SCHEMA, errorAnswers } from "./error-responses.js";
import {
  describesNothing,
  type JsonSchema,
  jsonSchemaOf,
  neverSucceeds,
  objectProperties,
  withoutProperties,
} from "./json-schema.js";
import { type CredentialKind, type DocumentedError, policyDoc } from "./policy-docs.js";

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

export type OpenApiDocument = { openapi: string } & Record<string, unknown>;

const SECURITY_SCHEMES: Record<CredentialKind, JsonSchema> = {
  bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
  apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
};

const STATUS_TEXT: Record<number, string> = {
  400: "Bad request",
  401: "Unauthenticated",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  413: "Payload too large",
  415: "Unsupported media type",
  429: "Too many requests",
  500: "Internal error",
  501: "Not implemented",
  503: "Unavailable",
  504: "Timed out",
};

/** The header an action that keeps answers by key reads (see docs/data.md, "Idempotency keys"). */
const IDEMPOTENCY_KEY_PARAMETER: JsonSchema = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "Repeating a request with the same key (and the same input) gets the first answer again instead of doing the work twice; the same key with another input is refused (422)",
  schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x20-\\x7e]+$" },
};

const ID_HEADERS = {
  "x-trace-id": { $ref: "#/components/headers/TraceId" },
  "x-correlation-id": { $ref: "#/components/headers/CorrelationId" },
};

/** Builds the document; `policies` are the gateway's global ones (each route adds its own). */
export function openApiDocument(
  info: OpenApiInfo,
  routes: readonly Route[],
  policies: readonly Policy[],
): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = { Error: ERROR_SCHEMA as unknown as JsonSchema };
  const credentials = new Set<CredentialKind>();
  for (const p of policies) for (const c of policyDoc(p)?.credentials ?? []) credentials.add(c);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const item = paths[path] ?? {};
    item[route.method.toLowerCase()] = operation(route, [...policies, ...route.policies], credentials, schemas);
    paths[path] = item;
  }
  const securitySchemes = Object.fromEntries([...credentials].map((c) => [c, SECURITY_SCHEMES[c]]));
  return {
    openapi: "3.1.1",
    info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) },
    paths,
    components: {
      schemas,
      headers: {
        TraceId: { description: "The request's trace id (W3C trace context)", schema: { type: "string" } },
        CorrelationId: { description: "The caller's x-correlation-id, or a new one", schema: { type: "string" } },
        RetryAfter: { description: "Seconds to wait before retrying", schema: { type: "integer", minimum: 0 } },
        Location: { description: "Where to follow the work this request started", schema: { type: "string" } },
      },
      ...(credentials.size > 0 ? { securitySchemes } : {}),
    },
  };
}

function operation(
  route: Route,
  policies: readonly Policy[],
  credentials: ReadonlySet<CredentialKind>,
  schemas: Record<string, JsonSchema>,
): JsonSchema {
  const { action } = route;
  const opId = action.fqn;
  const docs = policies.map(policyDoc);
  const requiresCaller = docs.some((d) => d?.requiresCaller === true);
  const policyErrors: DocumentedError[] = docs.flatMap((d) => d?.errors ?? []);
  const input = jsonSchemaOf(action.input, "input", `${opId}.input`, schemas);
  const pathNames = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  const properties = objectProperties(input);
  const parameters: JsonSchema[] = pathNames.map((name) => ({
    name,
    in: "path",
    required: true,
    schema: properties.find((p) => p.name === name)?.schema ?? { type: "string" },
  }));
  const op: JsonSchema = {
    operationId: opId,
    ...(action.description ? { summary: action.description } : {}),
    tags: [action.service],
  };
  if (route.method === "GET" || route.method === "DELETE") {
    // The default input of these methods is the query plus the path; a route's own input reads the path only.
    for (const p of properties) {
      if (pathNames.includes(p.name)) continue;
      parameters.push({ name: p.name, in: "query", required: p.required, schema: p.schema });
    }
  } else {
    op.requestBody = {
      required: true,
      content: { "application/json": { schema: withoutProperties(input, pathNames) } },
    };
  }
  if (action.idempotencyKey !== undefined) parameters.push(IDEMPOTENCY_KEY_PARAMETER);
  if (parameters.length > 0) op.parameters = parameters;
  if (route.deprecated !== undefined) op.deprecated = true;
  op.responses = { ...success(route, schemas), ...errors(route, policyErrors) };
  if (credentials.size > 0) {
    const schemes = [...credentials].map((c) => ({ [c]: [] }));
    // Without a required caller a credential is optional, but one that does not verify is still refused.
    op.security = requiresCaller ? schemes : [{}, ...schemes];
  }
  return op;
}

const LOCATION_HEADER = { $ref: "#/components/headers/Location" };

function success(route: Route, schemas: Record<string, JsonSchema>): JsonSchema {
  const { action } = route;
  if (neverSucceeds(action.output)) return {};
  if (route.status === 204 || describesNothing(action.output)) {
    // An action returning nothing answers 204 where the route says 200 (see routeHandler).
    const status = route.status === 200 ? 204 : route.status;
    return { [status]: { description: "Done; no content", headers: ID_HEADERS } };
  }
  const schema = jsonSchemaOf(action.output, "output", `${action.fqn}.output`, schemas);
  const headers = route.location === undefined ? ID_HEADERS : { ...ID_HEADERS, location: LOCATION_HEADER };
  return {
    [route.status]: {
      description: action.description ?? "Success",
      headers,
      content: { "application/json": { schema } },
    },
  };
}

function errors(route: Route, policyErrors: readonly DocumentedError[]): JsonSchema {
  const out: JsonSchema = {};
  for (const answer of errorAnswers(route, policyErrors)) {
    const headers: JsonSchema = { ...ID_HEADERS };
    if (answer.headers.includes("retry-after")) headers["retry-after"] = { $ref: "#/components/headers/RetryAfter" };
    out[answer.status] = {
      description: `${STATUS_TEXT[answer.status] ?? "Error"}: ${answer.codes.join(", ")}`,
      headers,
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return out;
}
