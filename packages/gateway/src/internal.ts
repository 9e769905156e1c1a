/** @module For sibling packages and tests: the gateway's building blocks that are not public API. */

export type { EdgeIds } from "./edge-ids.js";
export { edgeIds, ResponseHeaders, responseHeaders } from "./edge-ids.js";
export type { ReadinessReport } from "./health.js";
export { readiness } from "./health.js";
export { errorBody, httpStatusOf, toFlotillaError } from "./http-errors.js";
export { exceedsDepth } from "./json-body.js";
export { composePolicies } from "./policy.js";
export { pathProblem } from "./request-guard.js";
