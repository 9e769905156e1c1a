/** @module OpenAPI 3.1 from the gateway's routes, contract schemas and policies. */
export { type OpenApiDocument, type OpenApiInfo, openApiDocument } from "./document.js";
export { OPENAPI_PATH, registerOpenApiRoute } from "./endpoint.js";
export { type CredentialKind, type DocumentedError, documentPolicy, type PolicyDoc, policyDoc } from "./policy-docs.js";
